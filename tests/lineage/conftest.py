"""Lineage fixtures: an OpenLineage HTTP receiver on loopback and the spec's JSON schemas.

The receiver is a plain ``http.server`` in a thread; runs reach it through the OpenLineage
client's real HTTP transport, configured the standard way (``OPENLINEAGE__TRANSPORT__*``).
Events are validated against the spec's JSON schemas of the client's version, copied into
``schemas/`` (see ``schemas/README.md``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from glacier.lineage import flush
from tests.lineage.support import Receiver, SpecValidator, start_receiver


@pytest.fixture
def no_lineage_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No OpenLineage configuration anywhere: variables cleared, cwd and HOME empty folders.

    The client writes variables of its own into the environment (it aliases ``OPENLINEAGE_URL``
    as ``OPENLINEAGE__TRANSPORT__TRANSPORTS__DEFAULT_HTTP__*``); they are removed afterwards,
    so no configuration outlives the test.
    """
    for name in list(os.environ):
        if name.startswith("OPENLINEAGE"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield work
    flush(timeout=60)
    for name in [n for n in os.environ if n.startswith("OPENLINEAGE")]:
        del os.environ[name]


@pytest.fixture
def receiver(no_lineage_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """A receiver, and the standard variables that send every run's events to it."""
    server, got = start_receiver()
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "http")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__URL", got.url)
    try:
        yield got
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def validate() -> SpecValidator:
    """``validate(event)``: raises when an event breaks the spec."""
    return SpecValidator()
