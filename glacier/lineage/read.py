"""Dataset facts of what a task produced: its output frame, the frames it wrote to buckets.

Runs on the sender thread. A ``LazyFrame`` is read through its plan; a ``DataFrame`` has no
plan, but when it *is* an upstream task's output (the same buffers) it is named as that.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from glacier.lineage import naming
from glacier.lineage.events import DatasetFacts
from glacier.lineage.frames import lineage_of
from glacier.lineage.model import Frame
from glacier.lineage.sources import Sources

if TYPE_CHECKING:
    from glacier.lineage.observer import RunLineage, _Output

__all__ = ["read_output", "read_written", "CACHED"]

CACHED = "the task cache keeps the data of a task's output, not the plan it was computed by"


def sources_for(run: RunLineage, upstream: dict[str, Any]) -> Sources:
    """Leaf names for a plan of this run: the graph's buckets and these task outputs."""
    buckets = []
    for bucket in run.graph.buckets:
        found = naming.from_bucket(bucket)
        if found is not None:
            buckets.append((bucket, found))
    named = {naming.task_output(run.namespace, run.graph.name, n): v for n, v in upstream.items()}
    return Sources(buckets, named)


def read_output(run: RunLineage, node: str, output: _Output) -> DatasetFacts:
    """The facts of a task's output frame."""
    dataset = naming.task_output(run.namespace, run.graph.name, node)
    value = output.plan if output.plan is not None else output.frame
    assert value is not None
    if output.remote is not None:  # read where the task ran
        schema, lineage, why = output.remote
    else:
        schema, lineage, why = lineage_of(value, sources_for(run, output.upstream))
    if output.frame is not None:
        schema = output.frame.schema
    if why is not None and run.graph.nodes[node].task.cache:
        why = CACHED
    return DatasetFacts(dataset, schema=schema, lineage=lineage, no_lineage=why)


def read_written(
    run: RunLineage,
    bucket: Any,
    frames: Sequence[Any],
    read: Sequence[tuple[Any, int | None]] = (),
) -> DatasetFacts:
    """The facts of a bucket from the frames the run wrote to it here, and the facts read
    in other processes of the frames written there (``(schema, lineage, why), rows``)."""
    dataset = naming.from_bucket(bucket)
    assert dataset is not None
    upstream = {n: o.plan if o.plan is not None else o.frame for n, o in run.outputs.items()}
    sources = sources_for(run, upstream)
    merged: Frame | None = None
    schema: Any = None
    why: str | None = None
    facts = [lineage_of(frame, sources) for frame in frames] + [f for f, _ in read]
    for frame_schema, lineage, reason in facts:
        schema = schema if schema is not None else frame_schema
        why = why or reason
        if lineage is not None:
            merged = lineage if merged is None else _merge(merged, lineage)
    counts = [f.height if isinstance(f, pl.DataFrame) else None for f in frames] + [n for _, n in read]
    rows = sum(c for c in counts if c is not None) if all(c is not None for c in counts) else None
    return DatasetFacts(
        dataset,
        schema=schema,
        lineage=merged,
        rows=rows,
        size=_size(bucket),
        no_lineage=None if merged else why,
    )


def _merge(a: Frame, b: Frame) -> Frame:
    out = Frame({n: c for n, c in a.columns.items()}, {k: set(v) for k, v in a.dataset.items()}, a.unknown)
    for name, column in b.columns.items():
        out.columns[name] = out.columns[name].merged(column) if name in out.columns else column
    for source, subtypes in b.dataset.items():
        out.dataset.setdefault(source, set()).update(subtypes)
    out.unknown = tuple(dict.fromkeys((*a.unknown, *b.unknown)))
    return out


def _size(bucket: Any) -> int | None:
    """Bytes of a single-object bucket (a stat, or one HEAD request); ``None`` for folders."""
    if bucket.is_folder or any(c in bucket.path for c in "*?["):
        return None
    try:
        return int(bucket.fs.size(bucket.get_uri()))
    except Exception:
        return None
