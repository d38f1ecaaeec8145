"""One run's OpenLineage events, from its run events (``glacier.run.events``).

The pipeline run is the parent job ``<pipeline>``; each task node is a job
``<pipeline>.<node>`` whose runs carry the ``parent`` facet. A task's output frame is a
dataset (``glacier://<namespace>`` / ``<pipeline>.<node>``) with its schema, its column
lineage (read from the frame's polars plan, through every upstream task back to the buckets)
and its row count; buckets a task reads and writes are its inputs and outputs.

A task that returns a ``LazyFrame`` is computed when the plans that need it are collected
(at the end of a local run), so its COMPLETE is sent then, with the row count when it is
known. Everything here runs in the callbacks of run events and must never raise; the slow
part (reading plans, building and sending events) runs on the sender thread, so a run returns
as soon as its data is ready (``glacier.lineage.flush()`` waits for its events; the process
waits for them at exit).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from glacier.lineage import naming, remote, sender
from glacier.lineage.config import job_namespace
from glacier.lineage.sources import bucket_key
from glacier.storage import observe

if TYPE_CHECKING:
    from glacier.graph import Graph
    from glacier.lineage.events import DatasetFacts, RunInfo
    from glacier.run.events import RunEvent
    from glacier.run.record import RunRecord

__all__ = ["RunLineage", "uuid7"]

log = logging.getLogger("glacier.lineage")

_FRAMES = (pl.DataFrame, pl.LazyFrame)


def uuid7() -> str:
    """A time-ordered UUID (version 7), as the OpenLineage spec recommends for run ids."""
    millis = time.time_ns() // 1_000_000 & ((1 << 48) - 1)
    rand = int.from_bytes(os.urandom(10), "big")
    value = millis << 80 | 0x7 << 76 | ((rand >> 62) & 0xFFF) << 64 | 0b10 << 62 | (rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


@dataclass
class _Output:
    """A task's output frame as the run saw it, and (once read) its dataset facts."""

    plan: pl.LazyFrame | None
    frame: pl.DataFrame | None
    upstream: dict[str, Any]
    facts: DatasetFacts | None = None
    #: ``(schema, lineage, why not)`` read where the task ran, when that was another process.
    remote: Any = None


class RunLineage:
    """Subscriber to one run's events that sends its OpenLineage events."""

    def __init__(self, graph: Graph, record: RunRecord, values: Callable[[], Mapping[str, Any]]) -> None:
        self.graph = graph
        self.record = record
        self.values = values
        self.namespace = job_namespace()
        self.channel = sender.Channel()
        self.run_id = uuid7()
        self.task_ids: dict[str, str] = {}
        self.ended: set[str] = set()
        self.pending: set[str] = set()
        self.outputs: dict[str, _Output] = {}
        self._upstream_frames: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self.writes: list[tuple[str, Any]] = []
        self.remote_writes: list[tuple[str, Any, int | None]] = []
        self._written: dict[str, DatasetFacts] = {}
        self._stop_watching: Callable[[], None] | None = None

    # -- run events ----------------------------------------------------------------------
    def __call__(self, event: RunEvent) -> None:
        try:
            self._on(event)
        except Exception:
            log.exception("OpenLineage: handling the %s event of %s failed", event.kind, event.pipeline)

    def _on(self, event: RunEvent) -> None:
        kind, node = event.kind, event.node
        if kind == "run_started":
            self.start_watching()
            sender.submit(lambda t=event.time: self._send_run("START", t))
        elif kind == "task_started" and node is not None:
            self._started(node, event.time)
        elif kind in ("task_finished", "task_cached") and node is not None:
            self._finished(node)
        elif kind == "task_planned" and node is not None:
            if isinstance(self.values().get(node), _FRAMES):  # a plan, computed later (task_finished)
                self._finished(node)
        elif kind == "task_failed" and node is not None:
            self._end(node, "ABORT" if self.record.status == "cancelled" else "FAIL")
        elif kind == "task_skipped" and node is not None:
            if node in self.task_ids:
                self._end(node, "ABORT")
        elif kind in ("run_finished", "run_failed"):
            self._run_ended(event)

    def start_watching(self) -> None:
        """Note the frames written to buckets from now on (``Bucket.write``)."""
        self._stop_watching = observe.watch(self._wrote)

    def stop_watching(self) -> None:
        if self._stop_watching is not None:
            self._stop_watching()
            self._stop_watching = None

    def complete_pending(self) -> None:
        """COMPLETE for the lazy outputs still waiting for their collection."""
        for node in sorted(self.pending, key=lambda n: self.graph.nodes[n].index):
            if self.record.tasks[node].status in ("done", "cached"):
                self._end(node, "COMPLETE")

    def _wrote(self, bucket: Any, frame: Any) -> None:
        self.writes.append((bucket_key(bucket), frame))

    def _started(self, node: str, when: float) -> None:
        values = self.values()
        frames = [up for up in self.graph.nodes[node].upstream if isinstance(values.get(up), _FRAMES)]
        with self._lock:
            self.task_ids[node] = uuid7()
            self._upstream_frames[node] = frames
        sender.submit(lambda: self._send_task(node, "START", when))

    def _finished(self, node: str) -> None:
        value = self.values().get(node)
        computed: list[str] = []
        described = remote.lookup(self.record.run_id, node)
        with self._lock:
            if described is not None:
                self.remote_writes.extend(described.written)
            if node in self.ended or node not in self.task_ids:
                return
            if node in self.pending:  # the collected value of a lazy output
                self.pending.discard(node)
                if isinstance(value, pl.DataFrame):
                    self.outputs[node].frame = value
                # the lazy outputs upstream of it were computed by the same collect
                upstream = self.pending & self.graph.ancestors(node)
                computed = sorted(upstream, key=lambda n: self.graph.nodes[n].index)
            elif isinstance(value, _FRAMES):
                self.outputs[node] = self._capture(node, value)
                self.outputs[node].remote = described.output if described is not None else None
                if isinstance(value, pl.LazyFrame) and self.record.tasks[node].rows is None:
                    self.pending.add(node)  # computed later, when the plans that need it are collected
                    return
        for upstream_node in computed:
            self._end(upstream_node, "COMPLETE")
        self._end(node, "COMPLETE")

    def _capture(self, node: str, value: Any) -> _Output:
        values = self.values()
        upstream = {n: values[n] for n in self.graph.ancestors(node) if isinstance(values.get(n), _FRAMES)}
        if isinstance(value, pl.LazyFrame):
            return _Output(value, None, upstream)
        return _Output(None, value, upstream)

    def _end(self, node: str, state: str) -> None:
        with self._lock:
            if node in self.ended or node not in self.task_ids:
                return
            self.ended.add(node)
            self.pending.discard(node)
        when = self.record.tasks[node].end or time.time()
        sender.submit(lambda: self._send_task(node, state, when))

    def _run_ended(self, event: RunEvent) -> None:
        self.stop_watching()
        cancelled = self.record.status == "cancelled"
        for node in list(self.task_ids):
            status = self.record.tasks[node].status
            if status in ("done", "cached"):
                self._end(node, "COMPLETE")
            elif status == "failed" and not cancelled:
                self._end(node, "FAIL")
            else:
                self._end(node, "ABORT")
        state = "COMPLETE" if event.kind == "run_finished" else ("ABORT" if cancelled else "FAIL")
        sender.submit(lambda: self._send_run(state, event.time))

    # -- on the sender thread ------------------------------------------------------------
    def _info(self, node: str | None) -> RunInfo:
        from glacier.lineage.events import RunInfo

        tags = {"glacier.run_id": self.record.run_id, "glacier.mode": self.record.mode}
        if node is None:
            return RunInfo(
                self.run_id, self.namespace, self.graph.name, "PIPELINE", tags, error=self.record.error
            )
        task = self.record.tasks[node]
        tags.update(
            {
                "glacier.executor": task.executor,
                "glacier.attempts": str(task.attempts),
                "glacier.cached": "true" if task.cached else "false",
            }
        )
        return RunInfo(
            self.task_ids[node],
            self.namespace,
            f"{self.graph.name}.{node}",
            "TASK",
            tags,
            parent=(self.run_id, self.graph.name),
            error=task.error,
        )

    def _bucket(self, bucket: Any) -> DatasetFacts | None:
        from glacier.lineage.events import DatasetFacts

        found = naming.from_bucket(bucket)
        return DatasetFacts(found) if found is not None else None

    def _written_bucket(self, bucket: Any) -> DatasetFacts | None:
        """A bucket the run wrote: with schema and lineage of the frames written to it."""
        key = bucket_key(bucket)
        if key in self._written:
            return self._written[key]
        frames = [f for k, f in self.writes if k == key or k.startswith(key + "/")]
        read = [(facts, rows) for k, facts, rows in self.remote_writes if k == key or k.startswith(key + "/")]
        if not (frames or read) or naming.from_bucket(bucket) is None:
            return self._bucket(bucket)
        from glacier.lineage.read import read_written

        self._written[key] = read_written(self, bucket, frames, read)
        return self._written[key]

    def _task_dataset(self, node: str) -> naming.DatasetId:
        return naming.task_output(self.namespace, self.graph.name, node)

    def _output_facts(self, node: str) -> DatasetFacts | None:
        output = self.outputs.get(node)
        if output is None or (output.plan is None and output.frame is None):
            return None
        if output.facts is None:
            from glacier.lineage.read import read_output

            output.facts = read_output(self, node, output)
        output.facts.rows = self.record.tasks[node].rows
        return output.facts

    def _send_task(self, node: str, state: str, when: float) -> None:
        from glacier.lineage.events import DatasetFacts, build_event

        spec = self.graph.nodes[node]
        inputs = [f for f in (self._bucket(b) for b in spec.reads) if f is not None]
        inputs += [DatasetFacts(self._task_dataset(up)) for up in self._upstream_frames.get(node, ())]
        written = self._written_bucket if state == "COMPLETE" else self._bucket
        outputs = [f for f in (written(b) for b in spec.writes) if f is not None]
        if state == "COMPLETE" and (mine := self._output_facts(node)) is not None:
            outputs.append(mine)
        event = build_event(state, self._info(node), time=when, inputs=inputs, outputs=outputs)
        self.channel.send(event)

    def _send_run(self, state: str, when: float) -> None:
        from glacier.lineage.events import build_event

        reads = [b for n in self.graph.nodes.values() for b in n.reads]
        writes = [b for n in self.graph.nodes.values() for b in n.writes]
        inputs = _unique(f for f in (self._bucket(b) for b in reads) if f is not None)
        written = self._written_bucket if state == "COMPLETE" else self._bucket
        outputs = _unique(f for f in (written(b) for b in writes) if f is not None)
        if state == "COMPLETE":
            outputs += [f for f in (self._output_facts(n) for n in self.graph.returned()) if f is not None]
        event = build_event(state, self._info(None), time=when, inputs=inputs, outputs=outputs)
        self.channel.send(event)


def _unique(facts: Any) -> list[Any]:
    seen: dict[naming.DatasetId, Any] = {}
    for item in facts:
        seen.setdefault(item.id, item)
    return list(seen.values())
