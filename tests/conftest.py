"""Shared fixtures: the local provider, the ETL pipeline, and the storage servers.

Area-specific fixtures live in each test folder's conftest; plain helpers in
``tests/helpers.py``, server launching in ``tests/servers.py``.
"""

from __future__ import annotations

import os

os.environ.setdefault("GLACIER_PROGRESS", "0")
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

from collections.abc import Iterator

import pytest

from tests.helpers import ORDERS, Etl, build_etl
from tests.servers import Server, ServerPool, require_server


@pytest.fixture
def local_provider(tmp_path):
    """A LocalConfig provider rooted in a fresh temporary folder (``tmp_path / "data"``)."""
    from glacier import Provider
    from glacier.config import LocalConfig

    return Provider(config=LocalConfig(base_path=str(tmp_path / "data")))


@pytest.fixture
def etl(local_provider) -> Etl:
    """The ETL pipeline (extract -> clean -> summarise -> publish) on ``local_provider``,
    with :data:`tests.helpers.ORDERS` written to its input."""
    built = build_etl(local_provider)
    built.raw.write(ORDERS)
    return built


@pytest.fixture(scope="session")
def servers() -> Iterator[ServerPool]:
    """moto S3, gcp-storage-emulator and Azurite, each started on first use, once per session."""
    pool = ServerPool()
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture
def get_server(servers: ServerPool):
    """``get_server("s3")``: the running server, or a test failure saying why it is not."""
    return lambda name: require_server(servers, name)


@pytest.fixture
def s3_server(servers: ServerPool) -> Server:
    """moto's S3 server (shared by the session); create a fresh bucket per test."""
    return require_server(servers, "s3")
