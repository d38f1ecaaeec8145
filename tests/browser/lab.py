"""A JupyterLab server on 127.0.0.1 (temporary config/data/runtime dirs, news and update
checks off) and Debian's headless Chromium driven by Playwright, for the widget tests
and the widget benchmark. The server is launched, awaited and stopped with the shared
primitives of ``tests/servers.py``."""

from __future__ import annotations

import json
import os
import secrets
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat

from tests.servers import ROOT, ServerUnavailable, free_port, launch, stop_process

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts"
#: what installs the browser the tests drive
CHROMIUM_HINT = f"{CHROMIUM} is missing: run bash scripts/install.d/20-chromium.sh"


@contextmanager
def jupyterlab(root_dir: Path) -> Iterator[str]:
    """Start ``jupyter lab`` serving ``root_dir``; yields its base URL with ``?token=``."""
    tmp = root_dir / ".jupyter-tmp"
    env = dict(os.environ)
    for name in ("config", "data", "runtime", "ipython", "settings", "workspaces"):
        (tmp / name).mkdir(parents=True, exist_ok=True)
    env.update(
        JUPYTER_CONFIG_DIR=str(tmp / "config"),
        JUPYTER_DATA_DIR=str(tmp / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        IPYTHONDIR=str(tmp / "ipython"),
        JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
        GLACIER_PROGRESS="0",
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
    )
    notif = tmp / "settings" / "@jupyterlab" / "apputils-extension"
    notif.mkdir(parents=True, exist_ok=True)
    (notif / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    port, token = free_port(), secrets.token_hex(16)
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        "--allow-root",
        "--LabApp.extension_manager=readonly",
        "--LabApp.expose_app_in_browser=True",
        "--JupyterNotebookApp.expose_app_in_browser=True",  # Notebook 7 (same server) too
        f"--ServerApp.root_dir={root_dir}",
        "--LabApp.news_url=",
        "--ServerApp.open_browser=False",
    ]
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                return True
        except OSError:
            return False

    proc = launch(
        "jupyter lab", cmd, port, ready=answers, timeout=120, env=env, cwd=root_dir, log=tmp / "server.log"
    )
    try:
        yield f"{url}/lab/tree/{{path}}?token={token}"
    finally:
        stop_process(proc)


@contextmanager
def browser() -> Iterator[Any]:
    """A Playwright Chromium browser (Debian's, headless); :class:`ServerUnavailable` when missing."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise ServerUnavailable(CHROMIUM_HINT)

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def write_notebook(path: Path, cells: list[str]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def open_notebook(page: Any, url: str, timeout: float = 60_000) -> None:
    """Open a notebook and wait for its kernel to be ready."""
    page.goto(url)
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.sessionContext",
        timeout=timeout,
    )
    page.evaluate("async () => { await window.jupyterapp.shell.currentWidget.sessionContext.ready; }")
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel?.status === 'idle'",
        timeout=timeout,
    )


def run_all(page: Any, timeout: float = 60_000) -> None:
    """Run every cell and wait until the kernel is idle again with every cell executed."""
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(
        """() => { const w = window.jupyterapp.shell.currentWidget;
                   const cells = w.content.widgets;
                   return cells.every(c => c.model.type !== 'code' || c.model.executionCount)
                     && w.sessionContext.session.kernel.status === 'idle'; }""",
        timeout=timeout,
    )


def execute(page: Any, code: str, timeout: float = 60_000) -> None:
    """Run ``code`` in the notebook's kernel (outside any cell) and wait for it to finish."""
    page.evaluate(
        """async (code) => { const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
                             const f = k.requestExecute({code, stop_on_error: true});
                             let status = 'ok';
                             f.onIOPub = (m) => { if (m.header.msg_type === 'error') status = m.content.evalue; };
                             await f.done; if (status !== 'ok') throw new Error(status); }""",
        code,
    )
