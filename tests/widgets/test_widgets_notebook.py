"""widgets.ipynb (executed, outputs kept) passes nbval: widget views are ignored by
nbval (random model ids), everything else is compared after sanitizing addresses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).parent


def test_notebook_is_executed_with_widget_outputs() -> None:
    nb = nbformat.read(HERE / "widgets.ipynb", as_version=4)
    kinds = [
        next(iter(o.get("data", {})), None) for c in nb.cells if c.cell_type == "code" for o in c.outputs
    ]
    assert kinds.count("application/vnd.jupyter.widget-view+json") == 2


def test_widgets_notebook_passes_nbval() -> None:
    env = {**os.environ, "GLACIER_PROGRESS": "0", "PYTHONPATH": str(HERE)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--nbval",
            str(HERE / "widgets.ipynb"),
            "--nbval-sanitize-with",
            str(HERE / "nbval_sanitize.cfg"),
            "-W",
            "ignore::DeprecationWarning",
            "--rootdir",
            str(HERE),
            "-c",
            os.devnull,
        ],
        capture_output=True,
        text=True,
        cwd=HERE,
        env=env,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
