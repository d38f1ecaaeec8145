"""Exported modules compared with checked-in snapshots (the drift check itself does the
comparing). Refresh them with ``GLACIER_UPDATE_SNAPSHOTS=1 pytest tests/export``."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from glacier.export import ExportDriftError, export_notebook
from tests.export.export_nbutil import SAMPLES
from tests.helpers import update_snapshots

SNAPSHOTS = Path(__file__).parent / "snapshots"

CASES = [
    ("sales.ipynb", "sales.py.snap", "ruff"),
    ("kitchen.ipynb", "kitchen.py.snap", "ruff"),
    ("kitchen.ipynb", "kitchen.builtin.py.snap", "builtin"),
]


@pytest.mark.parametrize(("notebook", "snapshot", "formatter"), CASES, ids=[c[1] for c in CASES])
def test_snapshot(notebook: str, snapshot: str, formatter: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GLACIER_EXPORT_FORMATTER", formatter)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if update_snapshots():
            export_notebook(SAMPLES / notebook, SNAPSHOTS / snapshot)
        try:
            text = export_notebook(SAMPLES / notebook, SNAPSHOTS / snapshot, check=True)
        except ExportDriftError as exc:
            pytest.fail(f"{exc}\n{exc.diff}")
    compile(text, snapshot, "exec")
    assert "exported from the notebook ../notebooks/" + notebook in text
