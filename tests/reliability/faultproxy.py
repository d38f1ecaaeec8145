"""A small fault-injecting HTTP proxy for storage servers on loopback.

Requests are forwarded to the real server (moto's S3 …) unless ``proxy.rule(method, path)``
returns a fault: an HTTP status (``500``, ``503``) answered with an S3-style XML error body,
or ``"drop"``, which closes the connection without an answer.
"""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

__all__ = ["FaultProxy"]

Rule = Callable[[str, str], "int | str | None"]


class FaultProxy:
    """Start with ``with FaultProxy(upstream) as proxy:``; ``proxy.endpoint`` is its URL."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.rule: Rule = lambda method, path: None
        self.log: list[tuple[str, str, int | str]] = []
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with proxy._lock:
                    proxy._connections.add(self.connection)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = proxy.rule(self.command, self.path)
                with proxy._lock:
                    proxy.log.append((self.command, self.path, fault or "ok"))
                if fault == "drop":
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                if isinstance(fault, int):
                    reason = "ServiceUnavailable" if fault == 503 else "InternalError"
                    payload = (
                        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{reason}</Code>'
                        f"<Message>injected {fault}</Message></Error>"
                    ).encode()
                    self.send_response(fault)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                    return
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("expect", "connection")}
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status, resp.reason)
                for key, value in resp.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._stopped = False
        self._thread = threading.Thread(target=self.server.serve_forever, name="fault-proxy", daemon=True)

    def faults(self) -> list[tuple[str, str, int | str]]:
        with self._lock:
            return [entry for entry in self.log if entry[2] != "ok"]

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop like a crashed server: no new connections, open ones cut."""
        if self._stopped:
            return
        self._stopped = True
        self.server.shutdown()
        self.server.server_close()
        with self._lock:
            connections, self._connections = list(self._connections), set()
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            except OSError:
                pass

    def __exit__(self, *exc: object) -> None:
        self.stop()
