"""The client's own configuration and transport: failures never fail a run, and say where once."""

from __future__ import annotations

import http.server
import logging
import threading
from pathlib import Path

import polars as pl
import pytest

from glacier import Provider, pipeline
from glacier.lineage import flush, sender
from tests.lineage.support import Receiver
from tests.servers import free_port


def _tiny(provider: Provider, name: str = "tiny"):
    ex = provider.local()

    @ex.task()
    def numbers() -> pl.LazyFrame:
        return pl.LazyFrame({"x": [1, 2, 3]})

    @pipeline(name=name)
    def tiny():
        return numbers()

    return tiny


@pytest.fixture(autouse=True)
def _fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """'Logged once' is once per process; each test starts as a fresh process would."""
    monkeypatch.setattr(sender, "_warned", set())


def _lineage_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    assert flush(timeout=60)  # events are sent in the background
    return [
        r.getMessage() for r in caplog.records if r.name == "glacier.lineage" and r.levelno >= logging.WARNING
    ]


def test_an_unreachable_endpoint_is_logged_once_with_the_endpoint(
    no_lineage_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    local_provider: Provider,
) -> None:
    port = free_port()  # nothing listens there
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "http")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__URL", f"http://robot:CANARYPASSWORD@127.0.0.1:{port}")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__RETRY__TOTAL", "0")
    tiny = _tiny(local_provider)
    caplog.set_level(logging.WARNING, logger="glacier.lineage")
    assert tiny.run().collect()["x"].to_list() == [1, 2, 3]
    assert tiny.run().collect().height == 3  # a second run: still no failure, no second warning
    (message,) = _lineage_warnings(caplog)
    assert f"http://127.0.0.1:{port}/api/v1/lineage" in message
    assert "ConnectionError" in message
    assert "CANARYPASSWORD" not in caplog.text and "robot" not in caplog.text


def test_an_error_status_is_logged_not_raised(
    no_lineage_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    local_provider: Provider,
) -> None:
    class Refuse(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(400)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("OPENLINEAGE_URL", f"http://127.0.0.1:{server.server_port}")
        caplog.set_level(logging.WARNING, logger="glacier.lineage")
        assert _tiny(local_provider).run().collect().height == 3
        assert flush(timeout=60)
    finally:
        server.shutdown()
        server.server_close()
    (message,) = _lineage_warnings(caplog)
    assert "HTTP 400" in message and f"127.0.0.1:{server.server_port}/api/v1/lineage" in message


def test_a_broken_configuration_is_logged_not_raised(
    no_lineage_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    local_provider: Provider,
) -> None:
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "http")  # and no URL
    caplog.set_level(logging.WARNING, logger="glacier.lineage")
    assert _tiny(local_provider).run().collect().height == 3
    (message,) = _lineage_warnings(caplog)
    assert "could not be set up" in message and "url" in message


def test_a_config_file_and_an_api_key(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, no_lineage_env: Path, local_provider: Provider
) -> None:
    for name in ("OPENLINEAGE__TRANSPORT__TYPE", "OPENLINEAGE__TRANSPORT__URL"):
        monkeypatch.delenv(name)
    config = no_lineage_env / "lineage.yml"
    config.write_text(
        f"transport:\n  type: http\n  url: {receiver.url}\n  endpoint: custom/lineage\n"
        "  auth:\n    type: api_key\n    apiKey: CANARYAPIKEY\n"
    )
    monkeypatch.setenv("OPENLINEAGE_CONFIG", str(config))
    _tiny(local_provider).run()
    assert [e["job"]["name"] for e in receiver.events] == ["tiny", "tiny.numbers", "tiny.numbers", "tiny"]
    assert set(receiver.paths) == {"/custom/lineage"}
    assert {h["Authorization"] for h in receiver.headers} == {"Bearer CANARYAPIKEY"}
    assert not [body for body in receiver.bodies if "CANARYAPIKEY" in body]


def test_two_runs_at_once_keep_their_events_apart(receiver: Receiver, local_provider: Provider) -> None:
    first, second = _tiny(local_provider, "first"), _tiny(local_provider, "second")
    threads = [threading.Thread(target=p.run) for p in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name in ("first", "second"):
        assert receiver.types(name) == ["START", "COMPLETE"]
        parent = receiver.final(name)["run"]["runId"]
        assert receiver.final(f"{name}.numbers")["run"]["facets"]["parent"]["run"]["runId"] == parent
