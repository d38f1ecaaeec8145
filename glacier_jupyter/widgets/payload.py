"""What the DAG widget syncs to the browser: a compact, JSON-ready picture of a graph.

The payload is index based so a 1,000-node DAG stays small: ``nodes`` are rows
``[id, label, kind, executor, layer, x, y, tip, missing]`` (``executor`` and ``tip``
index ``executors`` and ``tips``; ``-1`` for buckets' executor; ``missing`` is 1 for an
input bucket on the local disk whose object is not there yet), ``edges`` are
``[source, target]`` row indexes. ``layer``/``x``/``y`` come from Glacier's layered
layout; the browser re-lays small graphs with dagre and uses these for large ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from glacier.display._html import color_for, fmt_signature, fmt_uri
from glacier.display.dag import NODE_H, NODE_W, layout
from glacier.run.events import STATUS_OF_EVENT

if TYPE_CHECKING:
    from glacier.graph import Graph
    from glacier.run.events import RunEvent
    from glacier.run.record import RunRecord

__all__ = ["ExecutorInfo", "GraphPayload", "TaskStatus", "dag_payload", "record_statuses", "apply_event"]


class ExecutorInfo(TypedDict):
    """One legend entry: an executor's name, kind, service, config type and public settings."""

    name: str
    kind: str
    service: str
    config: str | None
    settings: dict[str, Any]
    color: str


class GraphPayload(TypedDict):
    """The ``graph`` traitlet."""

    name: str
    nodes: list[list[Any]]
    edges: list[list[int]]
    executors: list[ExecutorInfo]
    tips: list[str]
    width: float
    height: float
    node_size: list[int]


class TaskStatus(TypedDict, total=False):
    """One entry of the ``statuses`` traitlet: status ``s``, the call's start/end ``t0``/``t1``
    (epoch seconds), rows ``r``, error ``e``, executor ``x``; for a task computed in the
    run's collection its share of it ``c`` (seconds), starting at ``cs``, and a note ``n``
    when its figures are not its own ("fused into clean")."""

    s: str
    t0: float
    t1: float
    r: int
    e: str
    x: str
    c: float
    cs: float
    n: str


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _missing(bucket: Any) -> bool:
    """Whether an input bucket on instant storage (the local disk) has nothing to read yet;
    clouds are not asked: drawing a DAG never touches one."""
    if not bucket.backend.instant:
        return False
    try:
        return not bucket.exists()
    except Exception:
        return False


def dag_payload(graph: Graph) -> GraphPayload:
    """The ``graph`` traitlet for ``graph``: tasks and buckets, edges, layers, positions,
    executors (legend, hover: ``executor.describe()`` without secrets) and tooltips."""
    lay = layout(graph)
    executors: list[ExecutorInfo] = []
    ex_index: dict[str, int] = {}
    tips: list[str] = []
    tip_index: dict[str, int] = {}
    task_tip: dict[int, int] = {}

    def tip(text: str) -> int:
        index = tip_index.get(text)
        if index is None:
            index = tip_index[text] = len(tips)
            tips.append(text)
        return index

    for node in graph.nodes.values():
        ex = node.task.executor
        if ex.name not in ex_index:
            info = ex.describe()
            ex_index[ex.name] = len(executors)
            executors.append(
                ExecutorInfo(
                    name=ex.name,
                    kind=ex.kind,
                    service=str(info.get("service", "")),
                    config=info.get("config"),
                    settings=_jsonable(info.get("settings", {})),
                    color=color_for(len(executors)),
                )
            )
        if id(node.task) not in task_tip:
            task_tip[id(node.task)] = tip(fmt_signature(node.task.name, node.task.signature))
    buckets = {f"bucket:{b.name}": b for b in graph.buckets}
    written = {b for _, b in lay.edges}
    rows: list[list[Any]] = []
    row_index: dict[str, int] = {}
    for nid, dn in lay.nodes.items():
        missing = 0
        if dn.kind == "task":
            gnode = graph.nodes[nid]
            ex = ex_index[gnode.task.executor.name]
            t = task_tip[id(gnode.task)]
        else:
            ex = -1
            bucket = buckets.get(nid)
            missing = int(nid not in written and bucket is not None and _missing(bucket))
            cfg = type(bucket.config).__name__ if bucket is not None and bucket.config is not None else None
            t = tip(
                f"{fmt_uri(bucket.get_uri()) if bucket is not None else dn.label}"
                + (f"\nconfig: {cfg}" if cfg else "")
            )
        row_index[nid] = len(rows)
        rows.append([nid, dn.label, dn.kind, ex, dn.layer, round(dn.x), round(dn.y), t, missing])
    edges = [[row_index[a], row_index[b]] for a, b in lay.edges]
    return GraphPayload(
        name=graph.name,
        nodes=rows,
        edges=edges,
        executors=executors,
        tips=tips,
        width=round(lay.width),
        height=round(lay.height),
        node_size=[NODE_W, NODE_H],
    )


def record_statuses(record: RunRecord | None) -> dict[str, TaskStatus]:
    """``statuses`` for a finished (or running) run record."""
    if record is None:
        return {}
    out: dict[str, TaskStatus] = {}
    for t in record.tasks.values():
        entry = TaskStatus(s=t.status, x=t.executor)
        if t.start is not None:
            entry["t0"] = t.start
        if t.end is not None:
            entry["t1"] = t.end
        if t.rows is not None:
            entry["r"] = t.rows
        if t.error:
            entry["e"] = t.error
        if t.compute is not None:
            entry["c"] = t.compute
        if t.compute_start is not None:
            entry["cs"] = t.compute_start
        if t.note:
            entry["n"] = t.note
        out[t.node] = entry
    return out


_STATUS_OF = STATUS_OF_EVENT


def apply_event(statuses: dict[str, TaskStatus], event: RunEvent) -> None:
    """Update ``statuses`` in place with one run event."""
    if event.kind == "run_started":
        statuses.clear()
        for nid in event.nodes:
            statuses[nid] = TaskStatus(s="pending")
        return
    status = _STATUS_OF.get(event.kind)
    if status is None or event.node is None:
        return
    entry = statuses.setdefault(event.node, TaskStatus(s="pending"))
    prior = entry.get("s")
    entry["s"] = status
    if event.executor:
        entry["x"] = event.executor
    if event.kind == "task_started":
        entry["t0"] = event.time
        entry.pop("t1", None)
    elif event.kind in ("task_finished", "task_cached", "task_failed", "task_planned"):
        if prior != "planned" or "t1" not in entry:  # a planned task's call ended before
            entry["t1"] = event.time
        if "t0" not in entry:
            entry["t0"] = entry["t1"] - (event.duration or 0.0)
        if event.rows is not None:
            entry["r"] = event.rows
        if event.error:
            entry["e"] = event.error
        if event.compute is not None:
            entry["c"] = event.compute
        if event.note:
            entry["n"] = event.note
    elif event.kind == "task_skipped" and event.error:
        entry["e"] = event.error
