"""Lineage of tasks that run in another process (a Dask worker, an emulated function).

A task on a Dask worker builds its plan there and sends back data: the plan never reaches
the process that sends the events. So, when lineage is on, the call carries a
:class:`Describer` (small and picklable: dataset names, no buckets, no credentials) that reads
the task's output plan - and the plans of the frames the task writes to buckets - on the
worker, where the plan is, and returns the lineage with the value (:class:`Described`).
The placement hands it to :func:`received`; the run's observer takes it with :func:`lookup`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from glacier.lineage import naming
from glacier.lineage.naming import DatasetId

if TYPE_CHECKING:
    from glacier.graph import Graph, Node
    from glacier.lineage.model import Frame

__all__ = ["Describer", "Described", "describers", "received", "lookup"]

#: ``(schema, lineage, why there is none)`` of one frame.
Facts = tuple[Any, "Frame | None", "str | None"]


@dataclass
class Described:
    """What the other process read: its output frame, and each bucket it wrote."""

    value: Any
    output: Facts | None = None
    written: list[tuple[str, Facts, int | None]] = field(default_factory=list)


@dataclass
class Describer:
    """Reads plans where the task ran. ``buckets``: (location key, dataset) of the pipeline's
    buckets; ``inputs``: the call's arguments with task outputs replaced by their dataset."""

    buckets: list[tuple[str, DatasetId]]
    inputs: Any

    @contextlib.contextmanager
    def watching(self) -> Iterator[list[tuple[Any, Any]]]:
        """Collect the frames written to buckets by this call (on this thread)."""
        from glacier.storage import observe

        writes: list[tuple[Any, Any]] = []
        me = threading.get_ident()

        def note(bucket: Any, frame: Any) -> None:
            if threading.get_ident() == me:
                writes.append((bucket, frame))

        stop = observe.watch(note)
        try:
            yield writes
        finally:
            stop()

    def __call__(
        self, value: Any, result: Any, args: Any, kwargs: Any, writes: list[tuple[Any, Any]]
    ) -> Described:
        """``value`` (what travels back) with the lineage of ``result`` and of ``writes``."""
        from glacier.lineage.frames import lineage_of
        from glacier.lineage.sources import Sources, bucket_key

        upstream = dict(_pairs(self.inputs, (args, kwargs)))
        sources = Sources([], upstream, keys=self.buckets)
        out = Described(value)
        try:
            if isinstance(result, (pl.DataFrame, pl.LazyFrame)):
                out.output = lineage_of(result, sources)
            for bucket, frame in writes:
                rows = frame.height if isinstance(frame, pl.DataFrame) else None
                out.written.append((bucket_key(bucket), lineage_of(frame, sources), rows))
        except Exception as exc:  # lineage never fails a task
            out.output = (None, None, f"reading the plan on the worker failed ({type(exc).__name__})")
        return out


def _pairs(names: Any, values: Any) -> Iterator[tuple[DatasetId, Any]]:
    """(dataset, frame) for every argument that came from a task output."""
    if isinstance(names, DatasetId):
        if isinstance(values, (pl.DataFrame, pl.LazyFrame)):
            yield names, values
        return
    if isinstance(names, (tuple, list)) and isinstance(values, (tuple, list)):
        for n, v in zip(names, values, strict=False):
            yield from _pairs(n, v)
    elif isinstance(names, dict) and isinstance(values, dict):
        for key, n in names.items():
            if key in values:
                yield from _pairs(n, values[key])


def describers(graph: Graph) -> Callable[[Node], Describer] | None:
    """``describer(node)`` for the calls of a run of ``graph``; ``None`` when lineage is off."""
    from glacier.graph import Output, rebuild
    from glacier.lineage.config import configured, job_namespace
    from glacier.lineage.sources import bucket_key

    if not configured():
        return None
    namespace = job_namespace()
    buckets = [(bucket_key(b), d) for b in graph.buckets if (d := naming.from_bucket(b)) is not None]

    def name(item: Any) -> Any:
        if isinstance(item, Output) and not item.key:
            return naming.task_output(namespace, graph.name, item.node.id)
        return None

    def describer(node: Node) -> Describer:
        return Describer(buckets, (rebuild(node.args, name), rebuild(node.kwargs, name)))

    return describer


_received: dict[tuple[str, str], Described] = {}
_lock = threading.Lock()


def received(run_id: str, node: str, described: Described) -> None:
    """Keep what the other process read for ``node`` of run ``run_id`` (until looked up)."""
    with _lock:
        _received[(run_id, node)] = described


def lookup(run_id: str, node: str) -> Described | None:
    """What was read in the other process for ``node`` of run ``run_id`` (once)."""
    with _lock:
        return _received.pop((run_id, node), None)
