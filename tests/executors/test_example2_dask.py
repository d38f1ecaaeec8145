"""examples/example2_dask.py: Example 2 with a DaskConfig cluster gives the same result in both modes."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_example2_dask_variant(tmp_path, monkeypatch, dask_address, capsys):
    monkeypatch.setenv("GLACIER_EXAMPLE_DIR", str(tmp_path))
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", dask_address)
    monkeypatch.syspath_prepend(str(EXAMPLES))
    sys.modules.pop("example2_dask", None)
    example = importlib.import_module("example2_dask")
    try:
        example.main()
    finally:
        sys.modules.pop("example2_dask", None)
    assert "same result with mode='local' and mode='distributed'" in capsys.readouterr().out
    record = example.ml_pipeline.last_run
    assert record.mode == "distributed" and record.status == "done"
    assert (tmp_path / "data-lake" / "features" / "predictions.parquet").exists()
