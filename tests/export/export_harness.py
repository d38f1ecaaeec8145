"""Running a notebook (real kernel, nbclient) and its exported module, capturing every
pipeline's last result so the two can be compared.

Both sides run the same prelude: it wraps ``Pipeline.run`` to remember what each run
returned (the run itself is untouched), and a final step writes each pipeline's last
result to ``OUT/<pipeline>.parquet`` (frames) or ``OUT/<pipeline>.json`` (anything else).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["PRELUDE", "dump_code", "run_notebook", "run_module", "load_results", "copy_tree"]

PRELUDE = """\
from glacier.pipeline import Pipeline as _GlacierPipeline

_GLACIER_RESULTS = {}
_glacier_run = _GlacierPipeline.run


def _glacier_recording_run(self, *args, **kwargs):
    out = _glacier_run(self, *args, **kwargs)
    _GLACIER_RESULTS[self.name] = out
    return out


_GlacierPipeline.run = _glacier_recording_run
"""


def dump_code(out_dir: Path) -> str:
    return f"""\
import json as _json
import polars as _pl

for _name, _value in _GLACIER_RESULTS.items():
    if isinstance(_value, _pl.LazyFrame):
        _value = _value.collect()
    if isinstance(_value, _pl.DataFrame):
        _value.write_parquet({str(out_dir)!r} + "/" + _name + ".parquet")
    else:
        with open({str(out_dir)!r} + "/" + _name + ".json", "w") as _f:
            _json.dump(repr(_value), _f)
"""


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc"))
    return dst


def run_notebook(path: Path, out_dir: Path, *, timeout: int = 300) -> None:
    """Execute ``path`` in a real kernel (cwd: its folder) with the recording prelude."""
    import nbformat
    from nbclient import NotebookClient

    out_dir.mkdir(parents=True, exist_ok=True)
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(PRELUDE))
    nb.cells.append(nbformat.v4.new_code_cell(dump_code(out_dir)))
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()


def run_module(module: Path, out_dir: Path, *, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """Run ``python module`` (as ``__main__``, cwd: its folder) with the recording prelude."""
    out_dir.mkdir(parents=True, exist_ok=True)
    script = (
        PRELUDE
        + "\nimport runpy\n"
        + f"runpy.run_path({str(module)!r}, run_name='__main__')\n"
        + dump_code(out_dir)
    )
    env = {**os.environ, "GLACIER_PROGRESS": "0"}
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=module.parent,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def load_results(out_dir: Path) -> dict[str, Any]:
    import polars as pl

    results: dict[str, Any] = {}
    for path in sorted(out_dir.iterdir()):
        if path.suffix == ".parquet":
            results[path.stem] = pl.read_parquet(path)
        elif path.suffix == ".json":
            results[path.stem] = json.loads(path.read_text())
    return results
