"""Dataset facts of one task's output frame: schema, column lineage, rows (sender thread)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glacier.lineage import naming
from glacier.lineage.events import DatasetFacts
from glacier.lineage.plan import analyse
from glacier.lineage.sources import Sources

if TYPE_CHECKING:
    from glacier.lineage.observer import RunLineage, _Output

__all__ = ["read_output", "MATERIALISED"]

MATERIALISED = (
    "the task returned a DataFrame (computed inside the task, restored from the task cache or "
    "sent back by a worker): polars keeps no plan of how it was computed"
)


def _sources(run: RunLineage, output: _Output) -> Sources:
    buckets = []
    for bucket in run.graph.buckets:
        found = naming.from_bucket(bucket)
        if found is not None:
            buckets.append((bucket, found))
    upstream = {naming.task_output(run.namespace, run.graph.name, n): v for n, v in output.upstream.items()}
    return Sources(buckets, upstream)


def read_output(run: RunLineage, node: str, output: _Output) -> DatasetFacts:
    """Read the output's plan (when it has one) into dataset facts."""
    dataset = naming.task_output(run.namespace, run.graph.name, node)
    if output.plan is None:
        schema: Any = output.frame.schema if output.frame is not None else None
        return DatasetFacts(dataset, schema=schema, no_lineage=MATERIALISED)
    try:
        lineage = analyse(output.plan, _sources(run, output))
        schema = output.frame.schema if output.frame is not None else output.plan.collect_schema()
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        reason = f"polars could not plan it ({type(exc).__name__}: {first[:200]})"
        return DatasetFacts(dataset, no_lineage=reason)
    return DatasetFacts(dataset, schema=schema, lineage=lineage)
