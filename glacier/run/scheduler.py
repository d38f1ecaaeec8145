"""The one run lifecycle: a scheduler that owns the run record, the events, failure
isolation and the collection of lazy outputs. *Where* each task runs is a placement
(:mod:`glacier.run.placement`) composed into it.

Tasks are called in dependency order, independent branches on a thread pool. Tasks
that return ``pl.LazyFrame`` only build plans (status ``planned``), and a lazy frame a
task writes to a bucket is deferred; the plans that are needed (returned by the
pipeline, or leaves of the graph) and the deferred writes are computed together at the
end (:mod:`glacier.run.collection`), so every frame is computed once, and each planned
task gets its own rows and time from that collection. A write is computed earlier when
a task that reads its object is about to start.

Ctrl-C (``KeyboardInterrupt``) stops the run: no task starts after it, placements stop
what they can (a Dask future, a function process), and the record is final when
:meth:`Scheduler.run` returns.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import polars as pl

from glacier.errors import PipelineError
from glacier.graph import Graph, Node, substitute
from glacier.run.events import RunEvent
from glacier.run.limits import TaskCancelledError
from glacier.run.placement import Call, InProcess, Placement
from glacier.run.record import RunRecord, TaskRun
from glacier.run.workers import Workers
from glacier.storage.deferred import WriteBatch, writing_for

__all__ = ["Scheduler", "describe_error", "failure_message", "cache_for"]


def describe_error(exc: BaseException) -> str:
    """``Type: first line of the message`` (no traceback, no internals)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def failure_message(record: RunRecord) -> str:
    """``pipeline 'etl' failed: task 'clean' on executor 'local' failed: ...`` (what else ran)."""
    parts = []
    for nid in record.failed:
        task = record.tasks[nid]
        parts.append(f"task {nid!r} on executor {task.executor!r} failed: {task.error}")
    message = f"pipeline {record.pipeline!r} failed: " + "; ".join(parts)
    if record.skipped:
        message += f" (skipped downstream: {', '.join(record.skipped)})"
    done = [t.node for t in record.tasks.values() if t.status in ("done", "cached")]
    if done:
        message += f" (finished: {', '.join(done)})"
    unrun = [t.node for t in record.tasks.values() if t.note == _NOT_RUN]
    if unrun:
        message += f" (planned, never computed: {', '.join(unrun)})"
    return message


#: The note on a planned task whose plan never ran because the run failed.
_NOT_RUN = "its plan was not computed: the run failed"
#: The note on a task whose lazy writes wait for the run's collection.
_WRITING = "its writes are computed with the run's collection"


def cache_for(graph: Graph, *, read_only: bool = False) -> Any:
    """The run cache when a task of ``graph`` asks for it (``read_only``: hits only)."""
    if not any(node.task.cache for node in graph.nodes.values()):
        return None
    from glacier.run.cache import ReadOnlyCache, default_cache

    return ReadOnlyCache(default_cache()) if read_only else default_cache()


def _stored_rows(value: Any) -> int | None:
    """The rows of a cached task's stored output (a frame; a lazy one is materialised data)."""
    if isinstance(value, pl.DataFrame):
        return value.height
    if isinstance(value, pl.LazyFrame):
        try:
            return int(value.select(pl.len()).collect().item())
        except Exception:
            return None
    return None


class _NotStarted(Exception):
    """A queued task reached a worker after the run was stopped."""


class Scheduler:
    """Runs a traced graph and fills in ``record``.

    Parameters
    ----------
    placements : iterable of Placement
        Where tasks run; a task goes to the first one that accepts its executor,
        else to this process (:class:`~glacier.run.placement.InProcess`).
    max_workers : int, optional
        Threads for independent branches.
    cache : TaskCache, optional
        The run cache, for tasks with ``cache=True``.
    """

    def __init__(
        self,
        graph: Graph,
        record: RunRecord,
        emit: Callable[[RunEvent], None] | None,
        *,
        placements: Iterable[Placement] = (),
        max_workers: int | None = None,
        cache: Any = None,
    ) -> None:
        self.graph = graph
        self.record = record
        self._emit = emit
        self.placements = list(placements)
        self.max_workers = max_workers or min(32, (os.cpu_count() or 1) + 4)
        self.cache = cache
        self.values: dict[str, Any] = {}
        self.errors: dict[str, BaseException] = {}
        self._local = InProcess()
        self._placed: dict[int, Placement] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._closed = False
        from glacier.run.collection import Collection

        self.collection = Collection(self)
        self._returned: set[str] | None = None
        self.writes = WriteBatch(collect=self.collection.flush)
        #: Cache keys of lazy outputs to keep once the run's collection computed them.
        self.cache_keys: dict[str, str] = {}
        for node in graph.nodes.values():
            record.tasks[node.id] = TaskRun(node.id, node.task.name, node.task.executor.name)

    # -- events ------------------------------------------------------------------------
    def emit(self, kind: str, node: Node | None = None, **fields: Any) -> None:
        if self._emit is None:
            return
        self._emit(
            RunEvent(
                kind,
                self.record.run_id,
                self.record.pipeline,
                node.id if node is not None else None,
                node.task.executor.name if node is not None else None,
                **fields,
            )
        )

    # -- the lifecycle -----------------------------------------------------------------
    def run(
        self, *, collect: bool = True, failure: Callable[[RunRecord], str] = failure_message
    ) -> dict[str, Any]:
        """Run every node (then collect the needed plans) and return the node values.

        Raises :class:`~glacier.errors.PipelineError` (message: ``failure(record)``) when a
        task failed; an interrupt or another error is re-raised once the record is final.
        """
        record = self.record
        record.start = time.time()
        self.emit("run_started", time=record.start, nodes=tuple(self.graph.nodes))
        try:
            for placement in self.placements:
                placement.open(self.graph, record)
            self.schedule()
            if collect:
                self.collect_needed()
            else:
                self.writes.flush()
        except BaseException as exc:
            with self._lock:  # no task starts from here on (see execute)
                self._stop.set()
            self.writes.abort()
            self._close_placements()
            self._interrupted(exc)
            raise
        finally:
            self._close_placements()
        record.end = time.time()
        if collect:
            self._never_computed()
        if record.failed:
            record.status = "failed"
            record.error = failure(record)
            self.emit("run_failed", time=record.end, duration=record.duration, error=record.error)
            raise PipelineError(record.error, record) from self.errors[record.failed[0]]
        record.status = "done"
        self.emit("run_finished", time=record.end, duration=record.duration)
        return self.values

    def _interrupted(self, exc: BaseException) -> None:
        record = self.record
        record.status = "cancelled" if isinstance(exc, KeyboardInterrupt) else "failed"
        record.error = f"{type(exc).__name__}: {exc}"
        record.end = time.time()
        for task in record.tasks.values():
            if task.status == "running":  # stopped mid-call: say so in the record
                note = self.place(self.graph.nodes[task.node]).stop_note
                task.end = task.end or record.end
                task.error = task.error or f"interrupted ({type(exc).__name__}) while running; {note}"
                task.status = "failed"
            elif task.status == "pending":
                task.status = "skipped"
            elif task.status == "planned":
                task.note = _NOT_RUN  # stays planned: its plan never ran
        self.emit("run_failed", time=record.end, error=record.error)

    def _close_placements(self) -> None:
        if self._closed:
            return
        self._closed = True
        for placement in self.placements:
            try:
                placement.close()
            except Exception:
                pass

    # -- one task ----------------------------------------------------------------------
    def place(self, node: Node) -> Placement:
        """The placement that runs ``node`` (decided once per executor)."""
        executor = node.task.executor
        placement = self._placed.get(id(executor))
        if placement is None:
            placement = next((p for p in self.placements if p.accepts(executor)), self._local)
            self._placed[id(executor)] = placement
        return placement

    def retried(self, node: Node, attempt: int, exc: BaseException) -> None:
        with self._lock:
            if self._stop.is_set():
                return
            rec = self.record.tasks[node.id]
            rec.attempts = max(rec.attempts, attempt + 1)
        self.emit("task_retried", node, attempt=attempt, error=describe_error(exc))

    def pause(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            raise TaskCancelledError("the run was interrupted")

    def execute(self, node: Node) -> Any:
        rec = self.record.tasks[node.id]
        with self._lock:
            if self._stop.is_set():
                raise _NotStarted(node.id)
            rec.status = "running"
            rec.start = time.time()
            rec.attempts = 1
        self.emit("task_started", node, time=rec.start)
        if node.reads and self.writes:
            self._flush_for(node)
        args = substitute(node.args, self.values)
        kwargs = substitute(node.kwargs, self.values) if node.kwargs else node.kwargs
        if self.cache is not None and node.task.cache:
            hit, value = self.cache.lookup(node, args, kwargs)
            if hit:
                rec.cached = True
                rec.rows = self.cache.rows_for(node)
                if rec.rows is None and isinstance(value, pl.DataFrame):
                    rec.rows = value.height
                return value
            value = self.call(node, args, kwargs)
            if self.writes:  # the entry records its written objects' fingerprints: publish first
                self.writes.flush(node=node.id)
            if isinstance(value, pl.LazyFrame):  # kept once the run's collection computed it
                self.cache_keys[node.id] = self.cache.reserve(node, args, kwargs, value)
                return value
            value = self.cache.store(node, args, kwargs, value)
            rec.rows = _stored_rows(value)
            return value
        return self.call(node, args, kwargs)

    def _flush_for(self, node: Node) -> None:
        """Publish the pending writes to the objects ``node`` reads before it starts; a write
        that fails there fails its writer (the reader then reads the objects as they were)."""
        uris = {b.get_uri() for b in node.reads}
        writers = self.writes.writers(uris)
        if not writers:
            return
        try:
            self.writes.flush(uris)
        except Exception as exc:
            for nid in writers:
                if self.record.tasks[nid].status == "planned":
                    self.failed(self.graph.nodes[nid], exc)

    def call(self, node: Node, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run one task where it belongs and return its value."""
        placement = self.place(node)
        if placement is self._local:
            with writing_for(self.writes, node.id):
                return self._local.run(node, args, kwargs, self)
        handle = placement.submit(Call(node, args, kwargs, self))
        self._computed_inside(node, f"computed to send to {node.id}")  # lazy inputs are shipped as data
        return placement.result(handle)

    def finished(self, node: Node, value: Any) -> None:
        rec = self.record.tasks[node.id]
        rec.end = time.time()
        self.values[node.id] = value
        if isinstance(value, pl.DataFrame):
            rec.rows = value.height
        rec.lazy = isinstance(value, pl.LazyFrame)
        if rec.cached:
            rec.status = "cached"
        elif (rec.lazy and rec.rows is None) or (self.writes and self.writes.pending_by(node.id)):
            rec.status = "planned"  # nothing computed yet: the run's collection does that
            if not rec.lazy:
                rec.note = _WRITING
        else:
            rec.status = "done"
            if node.upstream:
                self._computed_inside(node)
        if self._emit is not None:
            kind = {"cached": "task_cached", "planned": "task_planned"}.get(rec.status, "task_finished")
            self.emit(kind, node, time=rec.end, duration=rec.duration, rows=rec.rows, note=rec.note)

    def _computed_inside(self, node: Node, note: str | None = None) -> None:
        """Planned upstream plans that ``node`` (an eager task) took were computed in its call."""
        if self._returned is None:
            self._returned = set(self.graph.returned())
        # walk up only through what is still planned (or cached): a done task's ancestors were
        # settled when it was, so a long chain of eager tasks costs O(1) per task, not O(n)
        tasks, seen, stack = self.record.tasks, set(), list(node.upstream)
        while stack:
            nid = stack.pop()
            if nid not in seen and tasks[nid].status in ("planned", "cached"):
                seen.add(nid)
                stack.extend(self.graph.nodes[nid].upstream)
        for nid in sorted(seen, key=lambda n: self.graph.nodes[n].index):
            rec = tasks[nid]
            if rec.status == "planned" and rec.lazy and nid not in self._returned:  # returned: collected
                rec.status, rec.note = "done", note or f"computed inside {node.id}"
                self.emit(
                    "task_finished", self.graph.nodes[nid], time=rec.end, duration=rec.duration, note=rec.note
                )

    def failed(self, node: Node, exc: BaseException) -> None:
        rec = self.record.tasks[node.id]
        rec.end = time.time()
        rec.status = "failed"
        rec.error = describe_error(exc)
        self.errors[node.id] = exc
        self.values.pop(node.id, None)
        self.emit("task_failed", node, time=rec.end, duration=rec.duration, error=rec.error)
        for child in sorted(self.graph.descendants(node.id), key=lambda n: self.graph.nodes[n].index):
            crec = self.record.tasks[child]
            if crec.status in ("pending", "planned", "done", "cached"):
                crec.status = "skipped"
                crec.rows = None
                self.values.pop(child, None)
                self.emit("task_skipped", self.graph.nodes[child])

    # -- the whole graph -----------------------------------------------------------------
    def schedule(self) -> None:
        """Run every node in dependency order; a failure skips its descendants only."""
        graph = self.graph
        waiting = {nid: len(node.upstream) for nid, node in graph.nodes.items()}
        children = graph.downstream()
        ready: deque[Node] = deque(graph.nodes[n] for n, c in waiting.items() if c == 0)
        status = self.record.tasks
        workers: Workers | None = None
        inflight = 0

        def complete(node: Node, value: Any, exc: BaseException | None) -> None:
            if exc is not None:
                self.failed(node, exc)
                return
            self.finished(node, value)
            for child in children[node.id]:
                waiting[child] -= 1
                if waiting[child] == 0 and status[child].status == "pending":
                    ready.append(graph.nodes[child])

        try:
            while ready or inflight:
                while ready:
                    node = ready.popleft()
                    if status[node.id].status != "pending":
                        continue
                    if not ready and not inflight:  # nothing else to do: run it here
                        try:
                            value = self.execute(node)
                        except Exception as exc:
                            complete(node, None, exc)
                        else:
                            complete(node, value, None)
                        continue
                    if workers is None:
                        workers = Workers(self.execute, self.max_workers)
                    workers.submit(node)
                    inflight += 1
                if inflight:
                    assert workers is not None
                    node, value, exc = workers.next_done()
                    inflight -= 1
                    complete(node, value, exc)
        finally:
            if workers is not None:
                workers.close()

    def needed(self) -> list[str]:
        """Nodes whose lazy plans must be collected: returned ones and graph leaves."""
        children = self.graph.downstream()
        returned = set(self.graph.returned())
        return [
            nid
            for nid in self.graph.nodes
            if isinstance(self.values.get(nid), pl.LazyFrame) and (nid in returned or not children[nid])
        ]

    def collect_needed(self) -> None:
        """Compute the needed plans and the deferred writes together (see the module docstring)."""
        self.collection.run(self.needed())
        if self.cache_keys:
            self.collection.keep_cached()

    def _never_computed(self) -> None:
        """Planned tasks left when the run is over never had their plan computed (the run
        failed): they stay ``planned``, with a note saying so, never ``done``."""
        for rec in self.record.tasks.values():
            if rec.status == "planned":
                rec.note = _NOT_RUN
