"""Fixtures for the exporter tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))  # export_nbutil, export_harness

from export_nbutil import SAMPLES  # noqa: E402


@pytest.fixture
def sales_notebook(tmp_path: Path) -> Path:
    """A copy of the sample notebook in a fresh folder."""
    target = tmp_path / "nb" / "sales.ipynb"
    target.parent.mkdir()
    target.write_bytes((SAMPLES / "sales.ipynb").read_bytes())
    return target
