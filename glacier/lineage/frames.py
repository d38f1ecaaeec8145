"""The lineage facts of one frame: ``(schema, column lineage, why there is none)``.

No OpenLineage import here: this also runs where a task ran (a Dask worker), which may not
have the client installed.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from glacier.lineage.model import Frame
from glacier.lineage.plan import analyse
from glacier.lineage.sources import FRAME_UNKNOWN, Sources

__all__ = ["lineage_of", "MATERIALISED"]

MATERIALISED = (
    "the task returned a DataFrame computed inside it (or sent back by a worker): polars keeps no "
    "plan of how it was computed"
)


def lineage_of(value: pl.DataFrame | pl.LazyFrame, sources: Sources) -> tuple[Any, Frame | None, str | None]:
    """``(schema, lineage, why not)`` of one frame."""
    plan = value if isinstance(value, pl.LazyFrame) else value.lazy()
    try:
        lineage = analyse(plan, sources)
        schema = value.schema if isinstance(value, pl.DataFrame) else lineage.schema
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return None, None, f"polars could not plan it ({type(exc).__name__}: {first[:200]})"
    columns = list(lineage.columns.values())
    if columns and all(c.unknown == (FRAME_UNKNOWN,) for c in columns):
        return schema, None, MATERIALISED if isinstance(value, pl.DataFrame) else FRAME_UNKNOWN
    return schema, lineage, None
