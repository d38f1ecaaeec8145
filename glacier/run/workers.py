"""The scheduler's thread pool."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["Workers"]


class Workers:
    """A small thread pool with one completion queue (cheaper per task than
    ``concurrent.futures`` for wide graphs of small tasks)."""

    def __init__(self, fn: Callable[[Any], Any], size: int) -> None:
        self._fn = fn
        self._size = size
        self._todo: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.done: queue.SimpleQueue[tuple[Any, Any, BaseException | None]] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._queued = 0
        self._closed = False

    def submit(self, item: Any) -> None:
        self._queued += 1
        if len(self._threads) < min(self._size, self._queued):
            thread = threading.Thread(target=self._work, name=f"glacier-{len(self._threads)}", daemon=True)
            self._threads.append(thread)  # before start(): an interrupt inside start() still stops it
            thread.start()
        self._todo.put(item)

    def _work(self) -> None:
        todo, done, fn = self._todo, self.done, self._fn
        while True:
            item = todo.get()
            if item is None or self._closed:
                return
            try:
                done.put((item, fn(item), None))
            except BaseException as exc:
                done.put((item, None, exc))

    def next_done(self) -> tuple[Any, Any, BaseException | None]:
        """The next finished item. Waits in short slices: a blocking ``get()`` would hold
        off Ctrl-C (SIGINT is handled only between waits) until some task finished."""
        while True:
            try:
                return self.done.get(timeout=0.1)
            except queue.Empty:
                continue

    def close(self) -> list[Any]:
        """Stop: items still queued never start (they are returned); threads exit after
        the call they are in."""
        self._closed = True
        dropped = []
        while True:
            try:
                item = self._todo.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                dropped.append(item)
        for _ in self._threads:
            self._todo.put(None)
        return dropped
