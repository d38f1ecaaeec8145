"""Previews: the first rows and the schema of a frame, a bucket or a pipeline node,
computed without running more than what is needed.

For a pipeline node only the node and its upstream tasks run (in this process;
tasks with ``cache=True`` reuse what earlier runs stored in the run cache, and a
preview stores nothing, so a miss stays lazy), and ``head(n)`` is applied
to the node's lazy plan so polars pushes the slice down to the scans: only the
rows needed are read.

Examples
--------
>>> preview(pl.LazyFrame({"a": [1, 2, 3]}), n=2).rows.height
2
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from glacier.display.protocol import Displayable
from glacier.errors import DefinitionError

if TYPE_CHECKING:
    from glacier.pipelines import Pipeline

__all__ = ["Preview", "NodeOutput", "preview", "preview_node"]


@dataclass
class Preview(Displayable):
    """First ``n`` rows and the schema of something; displays itself in a notebook.

    ``ran`` and ``cached`` name the pipeline tasks that ran or came from the cache;
    ``plan`` is polars' optimised plan of the query that read the rows (it shows
    the ``SLICE`` pushed down to the scan).
    """

    source: str
    rows: pl.DataFrame | None
    schema: dict[str, pl.DataType] = field(default_factory=dict)
    n: int = 10
    elapsed: float = 0.0
    ran: tuple[str, ...] = ()
    cached: tuple[str, ...] = ()
    value: Any = None
    plan: str | None = None

    def _bundle_(self) -> dict[str, Any]:
        from glacier.display.frames import preview_bundle

        return preview_bundle(self)

    def __repr__(self) -> str:
        shown = "-" if self.rows is None else str(self.rows.height)
        return f"Preview({self.source!r}, {shown} rows, {len(self.schema)} columns)"


@dataclass(frozen=True)
class NodeOutput:
    """The output of one node of a pipeline (``pipeline.node("clean")``): preview it
    with :meth:`preview` without running the whole pipeline."""

    pipeline: Pipeline
    node: str
    params: tuple[tuple[str, Any], ...] = ()

    def preview(self, n: int = 10, **params: Any) -> Preview:
        return preview_node(self.pipeline, self.node, n=n, **{**dict(self.params), **params})

    def __repr__(self) -> str:
        return f"<output of {self.pipeline.name}.{self.node}>"


def preview(obj: Any, n: int = 10, **params: Any) -> Preview:
    """Preview a ``pl.LazyFrame``, ``pl.DataFrame``, bucket, pipeline node or pipeline.

    Parameters
    ----------
    obj : LazyFrame | DataFrame | Bucket | NodeOutput | Pipeline
        What to look at. A pipeline previews what it returns (its single returned node).
    n : int
        How many rows.
    **params
        Pipeline parameters (for a node or pipeline).
    """
    from glacier.pipelines import Pipeline
    from glacier.resources.bucket import Bucket

    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise DefinitionError(f"n must be a whole number >= 0, not {n!r}")
    start = time.perf_counter()
    if isinstance(obj, NodeOutput):
        return obj.preview(n, **params)
    if isinstance(obj, Pipeline):
        returned = obj.trace(**params).returned() if params else obj.graph.returned()
        if len(returned) != 1:
            names = ", ".join(returned) or "none"
            raise DefinitionError(
                f"pipeline {obj.name!r} returns {len(returned)} task outputs ({names}): "
                f"preview one of them, for example {obj.name}.node({(returned or ['name'])[0]!r})"
            )
        return preview_node(obj, returned[0], n=n, **params)
    if isinstance(obj, Bucket):
        from glacier.display._html import fmt_uri

        return _frame_preview(f"bucket {obj.name} ({fmt_uri(obj.get_uri())})", obj.scan(), n, start)
    if isinstance(obj, (pl.LazyFrame, pl.DataFrame)):
        return _frame_preview(type(obj).__name__, obj, n, start)
    raise DefinitionError(
        f"cannot preview a {type(obj).__name__}: give a pl.LazyFrame, a pl.DataFrame, a bucket, "
        "a pipeline or one of its nodes (pipeline.node('name'))"
    )


def _frame_preview(
    source: str,
    frame: pl.LazyFrame | pl.DataFrame,
    n: int,
    start: float,
    ran: tuple[str, ...] = (),
    cached: tuple[str, ...] = (),
) -> Preview:
    plan = None
    if isinstance(frame, pl.LazyFrame):
        schema = dict(frame.collect_schema())
        head = frame.head(n)
        rows = head.collect()
        plan = head.explain()
    else:
        schema = dict(frame.schema)
        rows = frame.head(n)
    return Preview(source, rows, schema, n, time.perf_counter() - start, ran, cached, plan=plan)


def preview_node(pipeline: Pipeline, node: str, n: int = 10, **params: Any) -> Preview:
    """Run only ``node`` and its upstream tasks, and preview the node's output.

    The sub-graph runs through the pipeline's own lifecycle (:class:`~glacier.run.scheduler.Scheduler`)
    with a read-only cache and no collection; ``pipeline.last_run`` is left as it was."""
    from glacier.graph import Graph, Output
    from glacier.run.record import RunRecord
    from glacier.run.scheduler import Scheduler, cache_for

    start = time.perf_counter()
    graph = pipeline.trace(**params)
    if node not in graph.nodes:
        known = ", ".join(graph.nodes)
        raise DefinitionError(f"pipeline {pipeline.name!r} has no task {node!r}; its tasks are: {known}")
    needed = graph.ancestors(node) | {node}
    sub = Graph(
        graph.name,
        nodes={nid: nd for nid, nd in graph.nodes.items() if nid in needed},
        result=Output(graph.nodes[node]),
        params=graph.params,
    )
    record = RunRecord(uuid.uuid4().hex[:12], pipeline.name, "preview")

    def failure(rec: RunRecord) -> str:
        errors = "; ".join(f"task {nid!r} failed: {rec.tasks[nid].error}" for nid in rec.failed)
        return f"preview of {pipeline.name}.{node}: {errors}"

    values = Scheduler(sub, record, None, cache=cache_for(sub, read_only=True)).run(
        collect=False, failure=failure
    )
    order = sorted(needed, key=lambda nid: graph.nodes[nid].index)
    ran = tuple(nid for nid in order if not record.tasks[nid].cached)
    cached = tuple(nid for nid in order if record.tasks[nid].cached)
    value = values[node]
    source = f"{pipeline.name}.{node}"
    if isinstance(value, (pl.LazyFrame, pl.DataFrame)):
        return _frame_preview(source, value, n, start, ran, cached)
    return Preview(source, None, {}, n, time.perf_counter() - start, ran, cached, value=value)
