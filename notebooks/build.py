"""Build the tutorial notebooks from their sources, execute them and save them with outputs.

Each notebook is written as ``notebooks/src/NN_name.py`` in the "percent" cell format::

    # %% [markdown]
    # # A title
    # Some text.

    # %%
    provider = Provider(config=LocalConfig(base_path="./data"))

This script turns every source into ``notebooks/NN_name.ipynb``, runs it top to bottom on
the ``glacier`` kernel (``scripts/install.d/40-kernel.sh`` installs it) in a fresh temporary
folder, exactly as the nbval tests do, and saves it with its outputs::

    .venv/bin/python notebooks/build.py                 # every notebook
    .venv/bin/python notebooks/build.py 01 04           # the ones whose names start so
    .venv/bin/python notebooks/build.py --check         # sources and notebooks agree?
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat

__all__ = [
    "HERE",
    "KERNEL_NAME",
    "build",
    "cells_from_source",
    "kernel_name",
    "notebook_from_source",
    "sources",
    "workdir",
]

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
KERNEL_NAME = "glacier"
KERNEL_DISPLAY = "Python (glacier)"
WORKDIR_PREFIX = "glacier-nb-"
# what the kernel needs for outputs that do not vary between runs (also set by tests/conftest.py)
KERNEL_ENV = {"GLACIER_PROGRESS": "0", "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false"}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_MARKER = re.compile(r"^# %%(?:\s+\[(markdown|md)\])?\s*$")


def sources() -> list[Path]:
    """The notebook sources, in order."""
    return sorted(SRC.glob("[0-9][0-9]_*.py"))


def cells_from_source(text: str) -> list[tuple[str, str]]:
    """``(cell_type, source)`` pairs from a percent-format source."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        match = _MARKER.match(line)
        if match:
            cells.append(("markdown" if match.group(1) else "code", []))
        elif cells:
            cells[-1][1].append(line)
        elif line.strip():
            raise ValueError(f"text before the first '# %%' cell marker: {line!r}")
    out = []
    for kind, lines in cells:
        if kind == "markdown":
            lines = [_uncomment(line) for line in lines]
        body = "\n".join(lines).strip("\n")
        if body:
            out.append((kind, body))
    return out


def _uncomment(line: str) -> str:
    if line in ("#", ""):
        return ""
    if not line.startswith("# "):
        raise ValueError(f"markdown lines start with '# ': {line!r}")
    return line[2:]


def notebook_from_source(path: Path) -> nbformat.NotebookNode:
    """An unexecuted notebook with deterministic cell ids and the ``glacier`` kernel."""
    nb = nbformat.v4.new_notebook()
    for i, (kind, body) in enumerate(cells_from_source(path.read_text())):
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        cell = make(body)
        cell["id"] = f"cell-{i:02d}"
        nb.cells.append(cell)
    nb.metadata = {
        "kernelspec": {"name": KERNEL_NAME, "display_name": KERNEL_DISPLAY, "language": "python"},
        "language_info": {"name": "python"},
    }
    return nb


def kernel_name(preferred: str = KERNEL_NAME) -> str:
    """``preferred`` when installed, else the error that says how to install it."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(preferred)
    except NoSuchKernel:
        raise SystemExit(
            f"the Jupyter kernel {preferred!r} is not installed: run `bash scripts/install.d/40-kernel.sh`"
        ) from None
    return preferred


def workdir() -> Path:
    """A fresh folder the kernel runs in (its name is sanitized in outputs; see nbval_sanitize.cfg)."""
    return Path(tempfile.mkdtemp(prefix=WORKDIR_PREFIX))


def build(path: Path, *, timeout: int = 300) -> Path:
    """Execute the notebook made from ``path`` and save it next to ``notebooks/src``."""
    from nbclient import NotebookClient

    nb = notebook_from_source(path)
    target = HERE / f"{path.stem}.ipynb"
    where = workdir()
    try:
        nbformat.write(nb, where / target.name)  # `%glacier export module` reads the saved notebook
        client = NotebookClient(
            nb,
            kernel_name=kernel_name(),
            timeout=timeout,
            record_timing=False,
            resources={"metadata": {"path": str(where)}},
        )
        client.execute(env=_kernel_env())
    finally:
        shutil.rmtree(where, ignore_errors=True)
    _tidy(nb)
    nbformat.validate(nb)
    nbformat.write(nb, target)
    return target


def _kernel_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(KERNEL_ENV)
    return env


def _tidy(nb: Any) -> None:
    """Drop what changes on every run without meaning anything (execution metadata) and what
    only a live kernel can show: widget views and their state. Each widget output keeps the
    static picture beside it, which every renderer shows (JupyterLab trusted or not,
    nbconvert, GitHub, VS Code); running the notebook brings the live widgets back."""
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        for out in cell.get("outputs", []):
            out.get("data", {}).pop(WIDGET_VIEW, None)
    nb.metadata.pop("widgets", None)


def check() -> list[str]:
    """Where a committed notebook's cells differ from its source (empty when they agree)."""
    problems = []
    for path in sources():
        target = HERE / f"{path.stem}.ipynb"
        if not target.exists():
            problems.append(f"{target.name} is missing: run notebooks/build.py {path.stem[:2]}")
            continue
        want = cells_from_source(path.read_text())
        got = [(c.cell_type, c.source) for c in nbformat.read(target, as_version=4).cells]
        if want != got:
            problems.append(
                f"{target.name} differs from src/{path.name}: run notebooks/build.py {path.stem[:2]}"
            )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="prefixes of the notebooks to build (default: all)")
    parser.add_argument("--check", action="store_true", help="only check that notebooks match sources")
    args = parser.parse_args(argv)
    if args.check:
        problems = check()
        print("\n".join(problems) or "notebooks agree with their sources")
        return 1 if problems else 0
    chosen = [p for p in sources() if not args.names or any(p.stem.startswith(n) for n in args.names)]
    if not chosen:
        print(f"no notebook source matches {args.names}", file=sys.stderr)
        return 1
    for path in chosen:
        start = time.perf_counter()
        target = build(path)
        print(f"{target.relative_to(HERE.parent)}: executed in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
