"""The in-process runner (``mode="local"``).

Tasks are called in dependency order, independent branches on a thread pool.
Tasks that return ``pl.LazyFrame`` only build plans; the plans that are needed
(returned by the pipeline, or leaves of the graph) are collected together at
the end with ``pl.collect_all`` so shared upstream work is done once. When that
collection fails, each needed plan is collected on its own and the failing
task is found by collecting its upstream plans in order.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import polars as pl

from glacier.graph import Graph, Node, substitute
from glacier.run.events import RunEvent
from glacier.run.record import RunRecord, TaskRun

__all__ = ["LocalRunner", "describe_error"]


def describe_error(exc: BaseException) -> str:
    """``Type: first line of the message`` (no traceback, no internals)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class LocalRunner:
    """Runs a traced graph in this process and fills in ``record``.

    Subclasses change where one task runs by overriding :meth:`call_task`.
    """

    def __init__(
        self,
        graph: Graph,
        record: RunRecord,
        emit: Callable[[RunEvent], None] | None,
        *,
        max_workers: int | None = None,
        cache: Any = None,
    ) -> None:
        self.graph = graph
        self.record = record
        self._emit = emit
        self.max_workers = max_workers or min(32, (os.cpu_count() or 1) + 4)
        self.cache = cache
        self.values: dict[str, Any] = {}
        self.errors: dict[str, BaseException] = {}
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

    # -- one task ----------------------------------------------------------------------
    def call_task(self, node: Node, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run one task where it belongs (here: this process) and return its value."""
        if node.task.timeout is not None:
            from glacier.run.timeouts import call_with_timeout

            return call_with_timeout(
                node.id,
                lambda: node.task.call(args, kwargs, on_retry=lambda a, e: self._retried(node, a, e)),
                node.task.timeout,
            )
        return node.task.call(args, kwargs, on_retry=lambda attempt, exc: self._retried(node, attempt, exc))

    def _retried(self, node: Node, attempt: int, exc: BaseException) -> None:
        self.record.tasks[node.id].attempts = attempt + 1
        self.emit("task_retried", node, attempt=attempt, error=describe_error(exc))

    def execute(self, node: Node) -> Any:
        rec = self.record.tasks[node.id]
        rec.status = "running"
        rec.start = time.time()
        rec.attempts = 1
        self.emit("task_started", node, time=rec.start)
        args = substitute(node.args, self.values)
        kwargs = substitute(node.kwargs, self.values) if node.kwargs else node.kwargs
        if self.cache is not None and node.task.cache:
            hit, value = self.cache.lookup(node, args, kwargs)
            if hit:
                rec.cached = True
                return value
            value = self.call_task(node, args, kwargs)
            return self.cache.store(node, args, kwargs, value)
        return self.call_task(node, args, kwargs)

    def finished(self, node: Node, value: Any) -> None:
        rec = self.record.tasks[node.id]
        rec.end = time.time()
        self.values[node.id] = value
        if isinstance(value, pl.DataFrame):
            rec.rows = value.height
        rec.lazy = isinstance(value, pl.LazyFrame)
        rec.status = "cached" if rec.cached else "done"
        self.emit(
            "task_cached" if rec.cached else "task_finished",
            node,
            time=rec.end,
            duration=rec.duration,
            rows=rec.rows,
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
            if crec.status in ("pending", "done", "cached"):
                crec.status = "skipped"
                crec.rows = None
                self.values.pop(child, None)
                self.emit("task_skipped", self.graph.nodes[child])

    # -- the whole graph -----------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Run every node, then collect the plans that are needed. Returns node values."""
        self.schedule()
        self.collect_needed()
        return self.values

    def schedule(self) -> None:
        graph = self.graph
        waiting = {nid: len(node.upstream) for nid, node in graph.nodes.items()}
        children = graph.downstream()
        ready: deque[Node] = deque(graph.nodes[n] for n, c in waiting.items() if c == 0)
        status = self.record.tasks
        workers: _Workers | None = None
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
                        workers = _Workers(self.execute, self.max_workers)
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
        sinks = self.needed()
        if not sinks:
            return
        self.emit("collect_started", None, nodes=tuple(sinks))
        start = time.time()
        try:
            frames = pl.collect_all([self.values[n] for n in sinks])
        except Exception:
            self._collect_one_by_one(sinks)
            return
        end = time.time()
        for nid, df in zip(sinks, frames, strict=False):
            self._collected(nid, df, start, end)

    def _collected(self, nid: str, df: pl.DataFrame, start: float, end: float) -> None:
        self.values[nid] = df
        rec = self.record.tasks[nid]
        rec.rows = df.height
        rec.end = max(rec.end or end, end)
        self.emit("task_finished", self.graph.nodes[nid], time=end, duration=end - start, rows=df.height)

    def _collect_one_by_one(self, sinks: list[str]) -> None:
        for nid in sinks:
            if self.record.tasks[nid].status not in ("done", "cached"):
                continue
            start = time.time()
            try:
                df = self.values[nid].collect()
            except Exception as exc:
                culprit = self._find_culprit(nid, exc)
                self.failed(self.graph.nodes[culprit[0]], culprit[1])
                continue
            self._collected(nid, df, start, time.time())

    def _find_culprit(self, sink: str, exc: BaseException) -> tuple[str, BaseException]:
        """The first upstream task whose own plan fails; the sink when none does."""
        order = sorted(self.graph.ancestors(sink), key=lambda n: self.graph.nodes[n].index)
        for nid in order:
            value = self.values.get(nid)
            if not isinstance(value, pl.LazyFrame):
                continue
            try:
                value.collect()
            except Exception as upstream_exc:
                return nid, upstream_exc
        return sink, exc


class _Workers:
    """A small thread pool with one completion queue (cheaper per task than
    ``concurrent.futures`` for wide graphs of small tasks)."""

    def __init__(self, fn: Callable[[Node], Any], size: int) -> None:
        self._fn = fn
        self._size = size
        self._todo: queue.SimpleQueue[Node | None] = queue.SimpleQueue()
        self.done: queue.SimpleQueue[tuple[Node, Any, BaseException | None]] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._queued = 0

    def submit(self, node: Node) -> None:
        self._queued += 1
        if len(self._threads) < min(self._size, self._queued):
            thread = threading.Thread(target=self._work, name=f"glacier-{len(self._threads)}", daemon=True)
            thread.start()
            self._threads.append(thread)
        self._todo.put(node)

    def _work(self) -> None:
        while (node := self._todo.get()) is not None:
            try:
                self.done.put((node, self._fn(node), None))
            except BaseException as exc:
                self.done.put((node, None, exc))

    def next_done(self) -> tuple[Node, Any, BaseException | None]:
        """The next finished task. Waits in short slices: a blocking ``get()`` would hold
        off Ctrl-C (SIGINT is handled only between waits) until some task finished."""
        while True:
            try:
                return self.done.get(timeout=0.1)
            except queue.Empty:
                continue

    def close(self) -> None:
        for _ in self._threads:
            self._todo.put(None)
