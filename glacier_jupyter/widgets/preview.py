"""The preview a DAG widget shows when a node is clicked: first rows and schema."""

from __future__ import annotations

import inspect
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from glacier.pipelines import Pipeline

__all__ = ["preview_payload"]


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):  # 45039.49999999992 reads as 45039.5
        return float(f"{value:.12g}") if math.isfinite(value) else str(value)
    text = str(value)
    return text if len(text) <= 200 else text[:199] + "…"


def task_source(pipeline: Pipeline, node: str, limit: int = 6000) -> str | None:
    """The source code of the task behind ``node`` (``None`` for a bucket or when unknown)."""
    try:
        found = pipeline.graph.nodes.get(node)
        fn = getattr(found.task, "fn", None) if found is not None else None
        code = inspect.getsource(fn) if fn is not None else None
    except Exception:  # built-ins, lambdas typed in a console, a pipeline that cannot be traced
        return None
    if code is None:
        return None
    return code if len(code) <= limit else code[: limit - 1] + "…"


def preview_payload(pipeline: Pipeline, node: str, n: int = 10) -> dict[str, Any]:
    """Run ``node``'s upstream part only (``glacier.preview``) and return a JSON-ready
    ``{"node", "columns", "dtypes", "rows", "ran", "cached", "elapsed"}``, or
    ``{"node", "error"}`` when the node cannot be previewed; a task's source is in
    ``"code"``. Buckets (``bucket:NAME``) are scanned directly."""
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
        failed = {"node": node, "error": f"{type(exc).__name__}: {message[0] if message else ''}"}
        return {**failed, "code": task_source(pipeline, node)} if not node.startswith("bucket:") else failed
    out: dict[str, Any] = {
        "node": node,
        "code": None if node.startswith("bucket:") else task_source(pipeline, node),
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
