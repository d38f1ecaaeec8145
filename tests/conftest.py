"""Shared fixtures. Area-specific fixtures live in each test folder's conftest."""

from __future__ import annotations

import os

os.environ.setdefault("GLACIER_PROGRESS", "0")
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

import pytest


@pytest.fixture
def local_provider(tmp_path):
    """A LocalConfig provider rooted in a fresh temporary folder."""
    from glacier import Provider
    from glacier.config import LocalConfig

    return Provider(config=LocalConfig(base_path=str(tmp_path / "data")))
