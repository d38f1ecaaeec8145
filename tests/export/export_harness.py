"""Running a notebook (real kernel, nbclient) and its exported module, capturing every
pipeline's last result so the two can be compared.

Both sides run the same prelude: it wraps ``Pipeline.run`` to remember what each run
returned (the run itself is untouched), and a final step writes each pipeline's last
result to ``OUT/<pipeline>.json`` (frames as their schema and rows).
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
from glacier.pipelines import Pipeline as _GlacierPipeline

_GLACIER_RESULTS = {}
_glacier_run = _GlacierPipeline.run


def _glacier_recording_run(self, *args, **kwargs):
    out = _glacier_run(self, *args, **kwargs)
    _GLACIER_RESULTS[self.name] = out
    return out


_GlacierPipeline.run = _glacier_recording_run
"""


def dump_code(out_dir: Path) -> str:
    """Frames become their rows and schema, containers are walked, anything else is its repr."""
    return f"""\
import json as _json
import polars as _pl


def _glacier_norm(value):
    if isinstance(value, _pl.LazyFrame):
        value = value.collect()
    if isinstance(value, _pl.DataFrame):
        return {{"schema": str(value.schema), "rows": value.to_dicts()}}
    if isinstance(value, dict):
        return {{str(k): _glacier_norm(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return [_glacier_norm(v) for v in value]
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return repr(value)


for _name, _value in _GLACIER_RESULTS.items():
    with open({str(out_dir)!r} + "/" + _name + ".json", "w") as _f:
        _json.dump(_glacier_norm(_value), _f, default=str, sort_keys=True)
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


def run_module(
    module: Path, out_dir: Path, *, as_script: bool = True, main: bool = True, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    """Run the module (cwd: its folder) with the recording prelude.

    ``as_script``: exactly ``python MODULE.py`` (run as ``__main__``). Otherwise the module is
    imported under its own name and its ``if __name__ == "__main__":`` body is run in it, as
    ``glacier run MODULE:PIPELINE`` would: for modules that start processes at import.
    ``main=False``: only import it.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    if not main:
        as_script = False
    if as_script:
        run = f"import runpy\nrunpy.run_path({str(module)!r}, run_name='__main__')\n"
    else:
        run = (
            "import ast, importlib.util, sys\n"
            f"_path = {str(module)!r}\n"
            f"sys.path.insert(0, {str(module.parent)!r})\n"
            f"_spec = importlib.util.spec_from_file_location({module.stem!r}, _path)\n"
            "_mod = importlib.util.module_from_spec(_spec)\n"
            "sys.modules[_spec.name] = _mod\n"
            "_spec.loader.exec_module(_mod)\n"
            + ("" if main else "raise SystemExit(0)\n")
            + "_tree = ast.parse(open(_path).read())\n"
            "_main = [s for s in _tree.body if isinstance(s, ast.If) and 'main' in ast.unparse(s.test)][-1]\n"
            "exec(compile(ast.Module(_main.body, []), _path, 'exec'), _mod.__dict__)\n"
        )
    script = PRELUDE + "\n" + run + dump_code(out_dir)
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
    return {path.stem: json.loads(path.read_text()) for path in sorted(out_dir.glob("*.json"))}
