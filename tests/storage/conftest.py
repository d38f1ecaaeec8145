"""Storage fixtures: real servers on loopback, one provider per backend.

``store`` is parametrised over local / s3 / gcs / azure (one pytest mark each),
so every storage test runs on all four: ``pytest tests/storage -m s3`` runs one.
The servers are the session's (``servers`` in tests/conftest.py); a server that cannot
start makes its tests fail with the reason, never skip.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from glacier import Provider
from tests.servers import Server, ServerPool
from tests.storage.support import BACKENDS, new_bucket_name, provider_for, server_for


@dataclass
class Store:
    """A provider on one backend and a fresh, empty bucket in it."""

    name: str
    provider: Provider
    bucket: str
    server: Server | None

    def at(self, path: str, **kwargs: object) -> object:
        """``provider.bucket(bucket=<fresh bucket>, path=path)``."""
        return self.provider.bucket(bucket=self.bucket, path=path, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def bucket_name() -> str:
    """A fresh bucket name (create it with ``server.create_bucket``)."""
    return new_bucket_name()


@pytest.fixture(params=[pytest.param(name, marks=getattr(pytest.mark, name)) for name in BACKENDS])
def store(request: pytest.FixtureRequest, servers: ServerPool, tmp_path: object) -> Store:
    """One backend (local, s3, gcs, azure) with a fresh bucket."""
    name = request.param
    server = None if name == "local" else server_for(servers, name)
    bucket = new_bucket_name()
    if server is not None:
        server.create_bucket(bucket)
    return Store(name, provider_for(name, server, tmp_path), bucket, server)
