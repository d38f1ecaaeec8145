"""Deferred writes: a lazy frame written inside a task joins the run's one collection.

``bucket.write(lazy_frame)`` inside a running task does not compute the frame on
its own. The usual write (stage a temporary file or open an upload, stream the
frame into it, publish on success, drop on failure) runs on a writer thread, and
at the point where it would stream the frame it hands the run a *lazy sink*
(``sink_*(..., lazy=True)``) and waits. The run collects every pending sink
together with the frames it collects anyway (``pl.collect_all``), so a frame that
is both written and returned is computed once, and then releases the writers: on
success each publishes its object, on failure each drops what it staged and the
old object stays as it was.

A reader of a pending object (``bucket.scan()``, or a task that takes the bucket)
flushes the writes to it first, so it always reads what was written.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import polars as pl

__all__ = ["PendingWrite", "WriteBatch", "active", "writing_for", "sink_or_wait"]

_local = threading.local()


@dataclass(eq=False)
class PendingWrite:
    """One deferred write: its object's URI, the task that wrote it, its lazy sink."""

    uri: str
    node: str | None
    sink: pl.LazyFrame | None = None
    error: BaseException | None = None
    #: The write itself, to run directly when the run's collection failed.
    redo: Callable[[], None] | None = None
    _registered: threading.Event = field(default_factory=threading.Event)
    _verdict: threading.Event = field(default_factory=threading.Event)
    _outcome: BaseException | None = None
    _thread: threading.Thread | None = None

    def release(self, error: BaseException | None = None) -> None:
        """Let the writer publish (``error is None``) or drop its object (raising ``error``)."""
        self._outcome = error
        self._verdict.set()

    def wait(self) -> BaseException | None:
        """Wait for the writer to finish; its error (publishing, or the one it was released with)."""
        if self._thread is not None:
            self._thread.join()
        return self.error


class WriteBatch:
    """The deferred writes of one run.

    Parameters
    ----------
    collect : callable
        ``collect(writes)`` computes the sinks of ``writes`` (a list of
        :class:`PendingWrite`) and publishes them, raising when either fails; used by
        :meth:`flush`.
    """

    def __init__(self, collect: Callable[[list[PendingWrite]], None] | None = None) -> None:
        self._collect = collect or _collect_sinks
        self._pending: list[PendingWrite] = []
        self._lock = threading.RLock()

    def __bool__(self) -> bool:
        return bool(self._pending)

    def defer(self, uri: str, node: str | None, write: Callable[[], None]) -> None:
        """Start ``write()`` on a writer thread; return once its sink is handed over.

        An error raised before the frame is streamed (the object store cannot be
        reached, the target is a folder) is raised here, as a direct write would.
        """
        pending = PendingWrite(uri, node, redo=write)

        def run() -> None:
            _local.pending = pending
            try:
                write()
            except BaseException as exc:
                pending.error = exc
            finally:
                _local.pending = None
                pending._registered.set()

        thread = threading.Thread(target=run, name=f"glacier-write-{node or 'task'}", daemon=True)
        pending._thread = thread
        thread.start()
        pending._registered.wait()
        if pending.sink is None:  # failed (or wrote eagerly) before handing a sink over
            thread.join()
            if pending.error is not None:
                raise pending.error
            return
        with self._lock:
            self._pending.append(pending)

    def take(self, uris: set[str] | None = None, node: str | None = None) -> list[PendingWrite]:
        """Remove and return the pending writes (to ``uris``, or by task ``node``; all by default)."""
        with self._lock:
            chosen = [
                p
                for p in self._pending
                if (uris is None or _touches(p.uri, uris)) and (node is None or p.node == node)
            ]
            self._pending = [p for p in self._pending if p not in chosen]
            return chosen

    def writers(self, uris: set[str]) -> list[str]:
        """The tasks with pending writes to ``uris``."""
        with self._lock:
            return list(dict.fromkeys(p.node for p in self._pending if p.node and _touches(p.uri, uris)))

    def pending_by(self, node: str) -> bool:
        """Whether task ``node`` has writes waiting."""
        with self._lock:
            return any(p.node == node for p in self._pending)

    def flush(self, uris: set[str] | None = None, node: str | None = None) -> None:
        """Compute and publish the pending writes to ``uris`` (or by ``node``) now; raises
        when computing or publishing fails (the objects not published stay as they were)."""
        with self._lock:
            writes = self.take(uris, node)
            if writes:
                self._collect(writes)

    def abort(self) -> None:
        """Drop every pending write (the run stopped): the old objects stay."""
        finish(self.take(), RuntimeError("the run stopped before this write was published"))


def finish(writes: list[PendingWrite], error: BaseException | None) -> BaseException | None:
    """Release ``writes`` (publish, or drop with ``error``) and wait; the first publishing error."""
    for pending in writes:
        pending.release(error)
    first = None
    for pending in writes:
        failed = pending.wait()
        if error is None and failed is not None and first is None:
            first = failed
    return first


def _collect_sinks(writes: list[PendingWrite]) -> None:
    """Compute ``writes`` together, then publish them (drop them all on failure)."""
    try:
        pl.collect_all([p.sink for p in writes])
    except BaseException as exc:
        finish(writes, exc)
        raise
    error = finish(writes, None)
    if error is not None:
        raise error


def _touches(uri: str, uris: set[str]) -> bool:
    """Whether a write to ``uri`` changes what one of ``uris`` names (the same object, a
    folder or glob holding it, or an object inside the folder written)."""
    return any(_covers(other, uri) or _covers(uri, other) for other in uris)


def _covers(name: str, uri: str) -> bool:
    """Whether ``name`` (an object, a folder or a glob) includes ``uri``."""
    cut = min((name.find(ch) for ch in "*?[" if ch in name), default=-1)
    if cut >= 0:
        return uri.startswith(name[:cut])
    return uri == name or uri.startswith(name.rstrip("/") + "/")


# -- the context a task runs in ---------------------------------------------------------
@contextmanager
def writing_for(batch: WriteBatch | None, node: str | None) -> Iterator[None]:
    """Defer the lazy writes made in this thread (a task's body) into ``batch``."""
    previous = getattr(_local, "batch", None), getattr(_local, "node", None)
    _local.batch, _local.node = batch, node
    try:
        yield
    finally:
        _local.batch, _local.node = previous


def active() -> tuple[WriteBatch, str | None] | None:
    """The batch (and task) deferring this thread's writes, if any."""
    batch = getattr(_local, "batch", None)
    return (batch, getattr(_local, "node", None)) if batch is not None else None


def sink_or_wait(lazy_sink: Callable[[], pl.LazyFrame], sink_now: Callable[[], Any]) -> bool:
    """In a writer thread, hand ``lazy_sink()`` to the run and wait for its verdict
    (raising the run's error on failure); elsewhere run ``sink_now()``. Returns whether
    the write was deferred."""
    pending: PendingWrite | None = getattr(_local, "pending", None)
    if pending is None:
        sink_now()
        return False
    _local.pending = None  # one sink per write
    pending.sink = lazy_sink()
    pending._registered.set()
    pending._verdict.wait()
    if pending._outcome is not None:
        raise pending._outcome
    return True
