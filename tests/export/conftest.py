"""Fixtures for the exporter tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.export.export_nbutil import SAMPLES


@pytest.fixture
def sales_notebook(tmp_path: Path) -> Path:
    """A copy of the sample notebook in a fresh folder."""
    target = tmp_path / "nb" / "sales.ipynb"
    target.parent.mkdir()
    target.write_bytes((SAMPLES / "sales.ipynb").read_bytes())
    return target
