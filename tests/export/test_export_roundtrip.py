"""Export a notebook, run the module, and compare with running the notebook in a real kernel.

Every notebook under ``notebooks/`` (the tutorials) is exported and run the same way.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import pytest

from glacier.export import ExportError, export_notebook
from tests.export.export_harness import copy_tree, load_results, run_module, run_notebook
from tests.export.export_nbutil import ROOT, SAMPLES

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning:zmq.*"),
]

TUTORIALS = sorted((ROOT / "notebooks").glob("*.ipynb")) if (ROOT / "notebooks").is_dir() else []
NOTEBOOKS = [SAMPLES / "sales.ipynb", *TUTORIALS]


def _id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("source", NOTEBOOKS, ids=_id)
def test_module_result_equals_notebook_result(source: Path, tmp_path: Path) -> None:
    nb_dir = copy_tree(source.parent, tmp_path / "as_notebook")
    mod_dir = copy_tree(source.parent, tmp_path / "as_module")
    module = mod_dir / f"{source.stem}_pipeline.py"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            text = export_notebook(mod_dir / source.name, module)
        except ExportError as exc:
            if "defines no pipeline" in str(exc):
                pytest.skip(f"{source.name} defines no pipeline: nothing to export ({exc})")
            raise
    assert module.read_text() == text

    # the module does not run anything when imported, only as a script
    assert 'if __name__ == "__main__":' in text

    try:
        run_notebook(nb_dir / source.name, tmp_path / "notebook_out")
    except Exception as exc:  # the notebook itself does not run here: not the exporter's doing
        if source.parent == SAMPLES:
            raise
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        pytest.skip(f"{source.name} does not run standalone in a fresh kernel: {first}")
    from_notebook = load_results(tmp_path / "notebook_out")
    if not from_notebook:  # the notebook defines pipelines but runs none: the module must import
        done = run_module(module, tmp_path / "module_out", main=False)
        assert done.returncode == 0, done.stderr
        return
    # a module that starts processes at import cannot run as a script (the exporter warns):
    # run it as `glacier run` does, imported under its own name
    as_script = not any("starts worker processes" in str(w.message) for w in caught)
    done = run_module(module, tmp_path / "module_out", as_script=as_script)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr

    from_module = load_results(tmp_path / "module_out")
    assert from_module, f"python {module.name} ran no pipeline"
    for name, value in from_module.items():
        assert name in from_notebook, (
            f"pipeline {name!r} runs in the module but was never run in the notebook"
        )
        assert _same(value, from_notebook[name]), (
            f"pipeline {name!r}: the module's result differs from the notebook's:\n{value}\n{from_notebook[name]}"
        )


def _same(a: object, b: object) -> bool:
    """Equal, floats up to rounding (parallel sums add in any order)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def test_sample_module_runs_the_last_run_with_its_parameters(tmp_path: Path) -> None:
    work = copy_tree(SAMPLES, tmp_path / "w")
    module = work / "sales_pipeline.py"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        export_notebook(work / "sales.ipynb", module)
    done = run_module(module, tmp_path / "out")
    assert done.returncode == 0, done.stderr
    results = load_results(tmp_path / "out")
    assert list(results) == ["report"]  # the notebook's last run
    # min_amount=1.0 as in the notebook's run: ap 12.0, eu 10 + 7.5 + 4.5
    assert results["report"]["rows"] == [
        {"region": "ap", "revenue": 12.0},
        {"region": "eu", "revenue": 22.0},
    ]
    assert "run " in done.stdout and "report" in done.stdout  # the summary table
