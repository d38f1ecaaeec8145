"""Sending events: the OpenLineage client, a background thread, and failures that stay quiet.

Events are built and sent in order on one background thread, so a run never waits for the
network; ``flush()`` waits for what was submitted, and so does the process when it exits.
The client is the official one, built from its own configuration (and rebuilt when that
configuration changes). A transport that fails is logged once per endpoint, with the
endpoint (never its credentials); the run's remaining events are dropped, the run goes on.
"""

from __future__ import annotations

import atexit
import logging
import queue
import re
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from glacier.lineage.config import config_key

__all__ = ["Channel", "submit", "flush", "cpu_seconds", "endpoint_of", "scrub", "warn_once"]

log = logging.getLogger("glacier.lineage")

_queue: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
_thread: threading.Thread | None = None
_thread_lock = threading.Lock()
_client: tuple[tuple[object, ...], Any] | None = None
_warned: set[str] = set()
_cpu = 0.0


def submit(job: Callable[[], None]) -> None:
    """Run ``job`` on the sender thread, after every job submitted before it."""
    global _thread
    with _thread_lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_work, name="glacier-lineage", daemon=True)
            _thread.start()
    _queue.put(job)


def flush(timeout: float | None = None) -> bool:
    """Wait until every job submitted so far has run; ``False`` if ``timeout`` ran out."""
    if _thread is None:
        return True
    done = threading.Event()
    submit(done.set)
    return done.wait(timeout)


def _work() -> None:
    global _cpu
    while True:
        job = _queue.get()
        start = time.thread_time()
        try:
            job()
        except Exception:  # a bug in building an event must not stop the thread
            log.exception("OpenLineage: building an event failed")
        _cpu += time.thread_time() - start


def cpu_seconds() -> float:
    """CPU time the sender thread has spent so far (reading plans, building, sending)."""
    return _cpu


@atexit.register
def _drain_at_exit() -> None:
    flush(timeout=10.0)


def endpoint_of(transport: Any) -> str:
    """Where a transport sends (a URL without credentials or query), for messages."""
    url = getattr(transport, "url", None)
    if isinstance(url, str):
        endpoint = getattr(transport, "endpoint", "") or ""
        parts = urlsplit(url.rstrip("/") + "/" + endpoint.lstrip("/") if endpoint else url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    inner = getattr(transport, "transports", None)
    if inner:
        return " + ".join(endpoint_of(t) for t in inner)
    return f"the {getattr(transport, 'kind', type(transport).__name__)} transport"


def scrub(text: str) -> str:
    """``text`` without URL credentials or query strings (a token can hide in either)."""
    text = re.sub(r"://[^/\s@]+@", "://", text)
    return re.sub(r"\?[^\s'\"]*", "", text)


def _failure(exc: BaseException) -> str:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    return f"{type(exc).__name__}, HTTP {status}" if status else type(exc).__name__


def warn_once(key: str, message: str, *args: object) -> None:
    if key in _warned:
        log.debug(message, *args)
        return
    _warned.add(key)
    log.warning(message, *args)


def _current_client() -> Any:
    """The client for the configuration of this moment (reused while it is unchanged)."""
    global _client
    key = config_key()
    if _client is not None and _client[0] == key:
        return _client[1]
    from openlineage.client import OpenLineageClient

    client = OpenLineageClient()
    _client = (key, client)
    return client


class Channel:
    """One run's way out: sends until the transport fails once, then drops the rest.

    The client is taken when the run starts, on the run's thread: the configuration is the
    one of that moment even though events are sent later (the first configured run of a
    process pays the client's import here).
    """

    def __init__(self) -> None:
        self.failed = False
        self.dropped = 0
        self.sent = 0
        self.client: Any = None
        try:
            self.client = _current_client()  # resolves the transport: a bad configuration shows here
        except Exception as exc:
            self.failed = True
            warn_once(
                f"config:{type(exc).__name__}:{scrub(str(exc))}",
                "OpenLineage is configured but its client could not be set up (%s: %s); "
                "runs go on without lineage",
                type(exc).__name__,
                scrub(str(exc).splitlines()[0]) if str(exc) else "",
            )

    def send(self, event: Any) -> None:
        if self.failed:
            self.dropped += 1
            return
        try:
            self.client.emit(event)
            self.sent += 1
        except Exception as exc:
            self.failed = True
            self.dropped += 1
            where = endpoint_of(self.client.transport)
            warn_once(
                f"send:{where}",
                "OpenLineage events could not be sent to %s (%s); this run's remaining "
                "events are dropped and the run goes on",
                where,
                _failure(exc),
            )
