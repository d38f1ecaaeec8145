"""A small fault-injecting HTTP proxy on loopback, for storage and reliability tests.

It forwards each request to a real server (one upstream connection per request)
unless a fault applies: answer with an HTTP error status after reading the request,
or drop the connection halfway through the request body. Faults come from
:meth:`FaultProxy.fail` rules (first match wins) or, failing those, from the
``proxy.rule(method, path)`` callable (``500``, ``503``, ``"drop"`` or ``None``)::

    with FaultProxy("http://127.0.0.1:PORT") as proxy:
        proxy.fail(method="PUT", status=503, times=1)   # the next upload PUT gets a 503
        proxy.fail(method="PUT", drop=True, times=None)  # every upload PUT is cut off
        proxy.rule = lambda method, path: 500 if "curated" in path else None
        ... point the client at proxy.endpoint ...
        proxy.stop()                                     # like a crashed server

Every request is logged as ``(method, path, outcome)`` in ``proxy.log``.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["FaultProxy", "Rule"]

Fault = int | str | None


@dataclass
class Rule:
    """Which requests fail and how. ``times=None`` means every matching request."""

    method: str = "PUT"
    status: int | None = None
    drop: bool = False
    times: int | None = 1
    min_body: int = 1
    path: str = ""

    def matches(self, method: str, path: str, body_size: int) -> bool:
        return (
            method == self.method
            and self.path in path
            and body_size >= self.min_body
            and (self.times is None or self.times > 0)
        )


_REASONS = {500: "InternalError", 503: "SlowDown"}


class FaultProxy:
    """Forward HTTP to ``upstream``, injecting faults from rules."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.rules: list[Rule] = []
        self.rule: Callable[[str, str], Fault] = lambda method, path: None
        self.log: list[tuple[str, str, int | str]] = []
        self.injected = 0
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.endpoint = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name="fault-proxy", daemon=True)
        self._thread.start()

    # -- rules -----------------------------------------------------------------------
    def fail(
        self,
        *,
        method: str = "PUT",
        status: int | None = None,
        drop: bool = False,
        times: int | None = 1,
        path: str = "",
    ) -> None:
        """Add a rule: ``status`` (e.g. 500, 503) or ``drop`` for requests with a body whose
        method is ``method`` and whose path (with the query) contains ``path``."""
        with self._lock:
            self.rules.append(Rule(method=method, status=status, drop=drop, times=times, path=path))

    def clear(self) -> None:
        """Forget every rule: requests pass through again."""
        with self._lock:
            self.rules.clear()
        self.rule = lambda method, path: None

    @property
    def requests(self) -> list[tuple[str, str]]:
        """``(method, path)`` of every request so far."""
        with self._lock:
            return [(method, path) for method, path, _ in self.log]

    def faults(self) -> list[tuple[str, str, int | str]]:
        """The logged requests that got a fault."""
        with self._lock:
            return [entry for entry in self.log if entry[2] != "ok"]

    def _take(self, method: str, path: str, size: int) -> Fault:
        with self._lock:
            for rule in self.rules:
                if rule.matches(method, path, size):
                    if rule.times is not None:
                        rule.times -= 1
                    fault: Fault = "drop" if rule.drop else rule.status
                    break
            else:
                fault = self.rule(method, path)
            if fault is not None:
                self.injected += 1
            self.log.append((method, path, fault or "ok"))
            return fault

    # -- serving ---------------------------------------------------------------------
    def _serve(self) -> None:
        while not self._closed:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        with self._lock:
            self._open.add(client)
        with contextlib.closing(client):
            try:
                self._one(client)
            except OSError:
                pass
        with self._lock:
            self._open.discard(client)

    def _one(self, client: socket.socket) -> None:
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = client.recv(65536)
            if not chunk:
                return
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        request_line = lines[0].split(b" ")
        method, path = request_line[0].decode(), request_line[1].decode() if len(request_line) > 1 else "/"
        headers = [ln for ln in lines[1:] if ln]
        size = 0
        expect = False
        for ln in headers:
            name, _, value = ln.partition(b":")
            if name.strip().lower() == b"content-length":
                size = int(value.strip())
            if name.strip().lower() == b"expect":
                expect = True
        if expect:
            client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        fault = self._take(method, path, size)
        if fault == "drop":
            # read about half the body, then cut the connection (RST)
            got = len(rest)
            while got < size // 2:
                chunk = client.recv(65536)
                if not chunk:
                    break
                got += len(chunk)
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            return
        body = rest
        while len(body) < size:
            chunk = client.recv(min(1 << 20, size - len(body)))
            if not chunk:
                return
            body += chunk
        if isinstance(fault, int):
            text = _REASONS.get(fault, "Error")
            payload = (
                f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{text}</Code>"
                f"<Message>injected {fault}</Message></Error>"
            ).encode()
            client.sendall(
                f"HTTP/1.1 {fault} {text}\r\nContent-Type: application/xml\r\n"
                f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
                + (payload if method != "HEAD" else b"")
            )
            return
        kept = [
            ln
            for ln in headers
            if ln.split(b":", 1)[0].strip().lower() not in (b"connection", b"expect", b"keep-alive")
        ]
        request = b"\r\n".join([lines[0], *kept, b"Connection: close"]) + b"\r\n\r\n" + body
        with socket.create_connection(self.upstream, timeout=60) as up:
            up.sendall(request)
            while True:
                data = up.recv(1 << 20)
                if not data:
                    break
                client.sendall(data)

    # -- lifecycle -------------------------------------------------------------------
    def stop(self) -> None:
        """Stop like a crashed server: no new connections, open ones cut."""
        self._closed = True
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() (close alone does not)
        with contextlib.suppress(OSError):
            self._sock.close()
        self._thread.join(5)
        with self._lock:
            connections, self._open = list(self._open), set()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    close = stop

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
