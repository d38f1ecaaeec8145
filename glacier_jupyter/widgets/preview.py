"""The preview a DAG widget shows when a node is clicked: first rows and schema."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from glacier.pipelines import Pipeline

__all__ = ["preview_payload"]


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    text = str(value)
    return text if len(text) <= 200 else text[:199] + "…"


def preview_payload(pipeline: Pipeline, node: str, n: int = 10) -> dict[str, Any]:
    """Run ``node``'s upstream part only (``glacier.preview``) and return a JSON-ready
    ``{"node", "columns", "dtypes", "rows", "ran", "cached", "elapsed"}``, or
    ``{"node", "error"}`` when the node cannot be previewed. Buckets (``bucket:NAME``)
    are scanned directly."""
    from glacier.preview import preview, preview_node

    try:
        if node.startswith("bucket:"):
            name = node.split(":", 1)[1]
            bucket = next((b for b in pipeline.graph.buckets if b.name == name), None)
            if bucket is None:
                return {"node": node, "error": f"pipeline {pipeline.name!r} uses no bucket {name!r}"}
            result = preview(bucket, n=n)
        else:
            result = preview_node(pipeline, node, n=n)
    except Exception as exc:  # shown in the side panel, never raised into the kernel's comm
        message = str(exc).strip().splitlines()
        return {"node": node, "error": f"{type(exc).__name__}: {message[0] if message else ''}"}
    out: dict[str, Any] = {
        "node": node,
        "source": result.source,
        "ran": list(result.ran),
        "cached": list(result.cached),
        "elapsed": round(result.elapsed, 4),
        "columns": [str(c) for c in result.schema],
        "dtypes": [str(t) for t in result.schema.values()],
        "rows": [],
    }
    if result.rows is not None:
        out["rows"] = [[_cell(v) for v in row] for row in result.rows.iter_rows()]
        out["columns"] = list(result.rows.columns)
        out["dtypes"] = [str(t) for t in result.rows.dtypes]
    else:
        out["value"] = _cell(repr(result.value))
    return out
