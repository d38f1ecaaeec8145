"""Who is told about the frames written to buckets (lineage listens while it observes a run).

``watch(callback)`` calls ``callback(bucket, frame)`` for every ``Bucket.write`` in this
process until the returned function is called. With nobody watching, a write pays one
truthiness check of an empty list.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

__all__ = ["watch", "written", "WATCHERS"]

#: The current watchers (replaced, never mutated, so a write iterates a stable list).
WATCHERS: list[Callable[[Any, Any], None]] = []
_lock = threading.Lock()


def watch(callback: Callable[[Any, Any], None]) -> Callable[[], None]:
    """Call ``callback(bucket, frame)`` on every write; returns the function that stops it."""
    global WATCHERS
    with _lock:
        WATCHERS = [*WATCHERS, callback]

    def stop() -> None:
        global WATCHERS
        with _lock:
            WATCHERS = [w for w in WATCHERS if w is not callback]

    return stop


def written(bucket: Any, frame: Any) -> None:
    """Tell every watcher; a failing watcher never fails the write."""
    for callback in WATCHERS:
        try:
            callback(bucket, frame)
        except Exception:
            import logging

            logging.getLogger("glacier").exception("write watcher %r failed", callback)
