"""What the widget tests do to a notebook page: open it in JupyterLab or Notebook 7, collect
its console errors, save, restart the kernel, reload, read outputs, take screenshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser.lab import ARTIFACTS, open_notebook

__all__ = ["UIS", "Console", "outputs_text", "reopen", "restart_kernel", "save", "shoot", "ui_url"]

#: the two notebook frontends of one Jupyter server, by the path their notebooks open under
UIS = {"lab": "/lab/tree/", "notebook7": "/notebooks/"}


def ui_url(lab_url: str, ui: str, path: str) -> str:
    """The URL that opens ``path`` in ``ui`` ("lab" or "notebook7"). JupyterLab opens it in a
    workspace of its own: the default one would also reopen the notebooks of earlier tests."""
    url = lab_url.format(path=path)
    if ui == "lab":
        return url.replace(UIS["lab"], f"/lab/workspaces/{Path(path).stem}/tree/", 1)
    return url.replace(UIS["lab"], UIS[ui], 1)


# where the widgets' own failures show: their modules run from blob: URLs (anywidget), and
# the widget manager reports a model's or a view's error with these words
OURS = (
    "blob:",
    "glw",
    "glacier",
    "[anywidget]",
    "Error setting state",
    "Could not create a view",
    "Failed to create view",
    "Could not create a model",
    "Error displaying widget",
    "widget model not found",
)


class Console:
    """Every console error and uncaught exception of a page, with where it was raised."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}\n{exc.stack}"))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} @ {message.location.get('url', '')}")

    def ours(self) -> list[str]:
        """The errors raised by Glacier's widgets (the frontend's own are left out)."""
        return [e for e in self.errors if any(mark in e for mark in OURS)]


def save(page: Any) -> None:
    """Save the open notebook and wait until it is written."""
    page.evaluate(
        """async () => { const w = window.jupyterapp.shell.currentWidget;
                         await w.context.save(); }"""
    )


def restart_kernel(page: Any, timeout: float = 60_000) -> None:
    page.evaluate(
        "async () => { await window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart(); }"
    )
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel?.status === 'idle'",
        timeout=timeout,
    )


def reopen(page: Any, url: str) -> None:
    """Load the notebook page afresh (a reopened notebook) and wait for its kernel."""
    page.goto("about:blank")
    open_notebook(page, url)


def outputs_text(page: Any) -> list[str]:
    """The visible text of every output, in order."""
    return page.evaluate(
        "() => [...document.querySelectorAll('.jp-OutputArea-output')].map(e => e.innerText)"
    )


def shoot(locator: Any, name: str) -> None:
    """A screenshot for review in test-artifacts/ (git ignores the folder)."""
    ARTIFACTS.mkdir(exist_ok=True)
    locator.scroll_into_view_if_needed()
    locator.screenshot(path=str(ARTIFACTS / f"{name}.png"))
