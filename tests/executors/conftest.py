"""Fixtures for the executor tests: one real Dask LocalCluster per test module."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def dask_address():
    """A LocalCluster (2 worker processes, 1 thread each, loopback only) shared by a module.

    ``allowed-failures=0``: a worker that dies fails its task at once, so Glacier's
    own retries are what the tests see.
    """
    dask = pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # no fixed port 8787 (None still binds it)
        )
    try:
        yield cluster.scheduler_address
    finally:
        from glacier.run.dask_clients import close_clients

        close_clients(cluster.scheduler_address)
        cluster.close()


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """A fresh cache folder for the test (``GLACIER_CACHE_DIR``)."""
    from glacier.run import cache

    folder = tmp_path / "cache"
    monkeypatch.setenv(cache.CACHE_ENV, str(folder))
    cache.set_cache_dir(None)
    return folder
