"""Export a notebook, run the module, and compare with running the notebook in a real kernel.

Every notebook under ``notebooks/`` (the tutorials) is exported and run the same way.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import polars as pl
import pytest
from conftest import ROOT, SAMPLES
from harness import copy_tree, load_results, run_module, run_notebook
from polars.testing import assert_frame_equal

from glacier.export import ExportError, export_notebook

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
    with warnings.catch_warnings(record=True):
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
    done = run_module(module, tmp_path / "module_out")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr

    from_notebook = load_results(tmp_path / "notebook_out")
    from_module = load_results(tmp_path / "module_out")
    assert from_module, f"python {module.name} ran no pipeline"
    for name, value in from_module.items():
        assert name in from_notebook, (
            f"pipeline {name!r} runs in the module but was never run in the notebook"
        )
        expected = from_notebook[name]
        if isinstance(value, pl.DataFrame):
            assert_frame_equal(value, expected)
        else:
            assert value == expected


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
    assert results["report"].to_dicts() == [
        {"region": "ap", "revenue": 12.0},
        {"region": "eu", "revenue": 22.0},
    ]
    assert "run " in done.stdout and "report" in done.stdout  # the summary table
