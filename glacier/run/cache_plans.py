"""Which cached lazy outputs can be kept as their plan, and what a task reads upstream."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import polars as pl

from glacier.graph import Output, walk

if TYPE_CHECKING:
    from glacier.graph import Node
    from glacier.resources.bucket import Bucket

__all__ = ["is_local_scan", "scans_a_bucket", "keeps_plan", "reads_upstream"]

_SCAN_LINE = ("PARQUET SCAN [", "IPC SCAN [", "CSV SCAN [", "NDJSON SCAN [", "JSON SCAN [")


def is_local_scan(value: Any) -> bool:
    """A LazyFrame that only scans local files (``source.scan()``): re-running the plan
    costs nothing, so the plan itself is cached, not a copy of the data. (Object-store scans
    are materialised: their plans may carry credentials.)"""
    if not isinstance(value, pl.LazyFrame):
        return False
    try:
        lines = value.explain(optimized=False).splitlines()
    except Exception:
        return False
    if not lines or not lines[0].upper().startswith(_SCAN_LINE) or "://" in lines[0]:
        return False
    return all(line.startswith(("PROJECT ", "ESTIMATED ROWS")) for line in lines[1:])


def scans_a_bucket(value: pl.LazyFrame, node: Node) -> bool:
    """Whether the scanned files belong to a bucket of the pipeline (they persist), not to a
    temporary file such as a distributed run's staging area."""
    first = value.explain(optimized=False).splitlines()[0]
    for bucket in (*reads_upstream(node), *node.writes):
        stem = re.split(r"[*?\[]", bucket.get_uri(), maxsplit=1)[0]
        if stem and stem in first:
            return True
    return False


def reads_upstream(node: Node) -> list[Bucket]:
    """Buckets read by ``node`` and every task upstream of it, once each, in a stable order."""
    seen_nodes: set[int] = set()
    found: dict[str, Bucket] = {}
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in seen_nodes:
            continue
        seen_nodes.add(id(current))
        for bucket in current.reads:
            found.setdefault(bucket.get_uri(), bucket)
        for item in (*walk(current.args), *walk(current.kwargs)):
            if isinstance(item, Output):
                stack.append(item.node)
    return [found[uri] for uri in sorted(found)]


def keeps_plan(node: Node, value: pl.LazyFrame) -> bool:
    """Whether ``value``'s plan can stand for its data: it scans only local files of the
    pipeline's buckets (their fingerprints are in the key) and calls no Python code.
    Otherwise (object-store scans may carry credentials; a Python function may be costly
    or impure) the data is kept."""
    try:
        text = value.explain(optimized=False)
    except Exception:
        return False
    if "://" in text or "PYTHON" in text.upper():
        return False
    stems = [re.split(r"[*?\[]", b.get_uri(), maxsplit=1)[0] for b in (*reads_upstream(node), *node.writes)]
    for line in text.splitlines():
        if " SCAN [" in line.upper() and not line.strip().upper().startswith("DF "):
            if not any(stem and stem in line for stem in stems):
                return False
    return True
