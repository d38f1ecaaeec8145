"""A small fault-injecting HTTP proxy on loopback, for reliability tests.

It forwards each request to a real server (one upstream connection per
request) unless a rule says otherwise: answer with an HTTP error status after
reading the request, or drop the connection halfway through the request body.

    with FaultProxy("http://127.0.0.1:PORT") as proxy:
        proxy.fail(method="PUT", status=503, times=1)   # the next upload PUT gets a 503
        proxy.fail(method="PUT", drop=True, times=None)  # every upload PUT is cut off
        ... point the client at proxy.endpoint ...
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["FaultProxy", "Rule"]


@dataclass
class Rule:
    """Which requests fail and how. ``times=None`` means every matching request."""

    method: str = "PUT"
    status: int | None = None
    drop: bool = False
    times: int | None = 1
    min_body: int = 1

    def matches(self, method: str, body_size: int) -> bool:
        return method == self.method and body_size >= self.min_body and (self.times is None or self.times > 0)


class FaultProxy:
    """Forward HTTP to ``upstream``, injecting faults from :meth:`fail` rules."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.rules: list[Rule] = []
        self.injected = 0
        self._lock = threading.Lock()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.endpoint = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._closed = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    # -- rules -----------------------------------------------------------------------
    def fail(
        self, *, method: str = "PUT", status: int | None = None, drop: bool = False, times: int | None = 1
    ) -> None:
        """Add a rule: ``status`` (e.g. 500, 503) or ``drop`` for matching requests."""
        with self._lock:
            self.rules.append(Rule(method=method, status=status, drop=drop, times=times))

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def _take(self, method: str, size: int) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.matches(method, size):
                    if rule.times is not None:
                        rule.times -= 1
                    self.injected += 1
                    return rule
        return None

    # -- serving ---------------------------------------------------------------------
    def _serve(self) -> None:
        while not self._closed:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        with contextlib.closing(client):
            try:
                self._one(client)
            except OSError:
                pass

    def _one(self, client: socket.socket) -> None:
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = client.recv(65536)
            if not chunk:
                return
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        method = lines[0].split(b" ", 1)[0].decode()
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
        rule = self._take(method, size)
        if rule is not None and rule.drop:
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
        if rule is not None and rule.status is not None:
            text = {500: "InternalError", 503: "SlowDown"}.get(rule.status, "Error")
            payload = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{text}</Code><Message>injected</Message></Error>".encode()
            client.sendall(
                f"HTTP/1.1 {rule.status} {text}\r\nContent-Type: application/xml\r\n"
                f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
                + payload
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
    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._sock.close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
