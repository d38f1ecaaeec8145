"""The server launcher every test server goes through (tests/servers.py): readiness, a dead or
never-ready process reported with its log, stopping, and the policy for a missing server."""

from __future__ import annotations

import sys
import urllib.request

import pytest

from tests.servers import (
    STARTERS,
    ServerPool,
    ServerUnavailable,
    free_port,
    launch,
    require_server,
    stop_process,
)


def test_launch_returns_once_the_port_answers_and_stop_ends_the_process(tmp_path) -> None:
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "http.server",
        str(port),
        "--bind",
        "127.0.0.1",
        "--directory",
        str(tmp_path),
    ]
    (tmp_path / "hello.txt").write_text("hello")
    proc = launch("http.server", argv, port)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/hello.txt", timeout=10) as reply:
            assert reply.read() == b"hello"
    finally:
        stop_process(proc)
    assert proc.poll() is not None


def test_a_process_that_exits_is_reported_with_its_output() -> None:
    argv = [sys.executable, "-c", "import sys; print('no such bucket store'); sys.exit(3)"]
    with pytest.raises(ServerUnavailable, match=r"(?s)dies exited with code 3: .*no such bucket store"):
        launch("dies", argv, free_port())


def test_a_process_that_never_gets_ready_is_stopped_and_reported() -> None:
    argv = [sys.executable, "-c", "import time; print('waiting', flush=True); time.sleep(600)"]
    with pytest.raises(ServerUnavailable, match=r"(?s)sleeper was not ready .* within 1 s: waiting"):
        launch("sleeper", argv, free_port(), ready=lambda: False, timeout=1)


def test_a_missing_server_fails_the_test_with_its_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> None:
        raise ServerUnavailable('moto_server is missing: pip install "moto[server]"')

    monkeypatch.setitem(STARTERS, "s3", missing)
    pool = ServerPool(("s3",))
    assert isinstance(pool["s3"], ServerUnavailable)
    with pytest.raises(
        pytest.fail.Exception, match=r"s3 server is not available: .*pip install \"moto\[server\]\""
    ):
        require_server(pool, "s3")
    pool.close()
