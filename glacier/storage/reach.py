"""Fail in seconds when a storage endpoint does not accept connections.

Some clients retry a refused connection for long (gcsfs: six times with
exponential backoff, ~30 s; azure-core: 15 s, 18 s, 24 s ...), which looks like
a hang. A TCP connect, remembered for a minute once it works, answers first.
"""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

__all__ = ["check_reachable"]

#: (host, port) -> when a connection last succeeded.
_REACHABLE: dict[tuple[str, int], float] = {}


def check_reachable(url: str, *, timeout: float = 5.0) -> None:
    """Raise ``ConnectionRefusedError``/``TimeoutError`` when ``url``'s host:port is unreachable."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if not host or time.monotonic() - _REACHABLE.get((host, port), -1e9) < 60:
        return
    with socket.create_connection((host, port), timeout=timeout):
        pass
    _REACHABLE[(host, port)] = time.monotonic()
