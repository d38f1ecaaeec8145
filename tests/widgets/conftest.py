"""Fixtures for the widget unit tests: the sample ETL built under a temporary folder."""

from __future__ import annotations

import pytest

from tests.widgets.sample import build


@pytest.fixture
def ns(tmp_path, monkeypatch) -> dict[str, object]:
    monkeypatch.setenv("GLACIER_CACHE_DIR", str(tmp_path / "cache"))
    return build(tmp_path / "data")
