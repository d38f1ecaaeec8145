"""Per-task rows and compute time inside one fused polars collection.

Polars' streaming engine keeps metrics for every node of the physical plan it
runs (rows sent, time spent polling). Polars publishes them only to a query
observer, the hook its cloud monitoring uses: :func:`collect_all` registers this
module as that observer (when polars has the hook and no real monitoring is set
up), runs the collection with monitoring on for that query only, and returns the
per-node metrics together with the plan they belong to.

:func:`attribute` then maps plan nodes back to the tasks that built them: every
task's own part of the plan (its plan minus its inputs' plans, as the lines of
``describe_plan``) is matched against the optimised plan's nodes by their
expressions, sources and targets. A node whose work came from several tasks (a
filter pushed into a scan) belongs to the most downstream of them; the others are
"fused into" it. Nothing here is guessed: a task whose part cannot be found is
reported as such, never as zero.
"""

from __future__ import annotations

import json
import os
import struct
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

__all__ = ["QueryMetrics", "TaskFigures", "collect_all", "attribute", "available", "own_lines", "unpack"]

_state = threading.local()
_install_lock = threading.Lock()
_installed: bool | None = None


class QueryCloudObserver:
    """Receives polars' query events (polars looks this class up by module name)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def on_query_started(self, query_id: Any) -> None:
        pass

    def on_query_planned(self, query_id: Any, handle: Any, ir: bytes, phys: bytes) -> None:
        sink = getattr(_state, "sink", None)
        if sink is not None:
            sink.append((handle, ir, phys))

    def on_query_failed(self, query_id: Any, *args: Any) -> None:
        pass


def available() -> bool:
    """Whether this polars can report per-node metrics to Glacier."""
    global _installed
    if _installed is not None:
        return _installed
    with _install_lock:
        if _installed is None:
            _installed = _install()
    return _installed


def _install() -> bool:
    if os.environ.get("POLARS_QUERY_MONITORING") == "1":
        return False  # the user monitors queries with polars cloud: leave it to them
    try:
        import polars._dependencies as deps
        import polars._plr as plr

        if not hasattr(plr, "set_query_monitoring") or not hasattr(pl.QueryOptFlags(), "_pyoptflags"):
            return False
        if getattr(deps, "_POLARS_CLOUD_AVAILABLE", False):
            return False
        previous = deps.polars_cloud
        deps.polars_cloud = _Module(__name__)  # polars imports the observer by this name
        try:
            plr.set_query_monitoring(True)
        finally:
            deps.polars_cloud = previous
        return True
    except Exception:
        return False


class _Module:
    def __init__(self, name: str) -> None:
        self.__name__ = name


@dataclass
class QueryMetrics:
    """The optimised plan (IR), the physical plan and each physical node's metrics."""

    ir: list[dict[str, Any]]
    phys: list[dict[str, Any]]
    nodes: dict[int, dict[str, Any]]
    complete: bool

    @property
    def seconds(self) -> float:
        """Time spent in all nodes together (summed over threads)."""
        return sum(n.get("total_time_ns", 0) for n in self.nodes.values()) / 1e9


def collect_all(
    frames: Sequence[pl.LazyFrame], *, metrics: bool = True
) -> tuple[list[pl.DataFrame], QueryMetrics | None]:
    """``pl.collect_all(frames)``, plus the metrics of the run when polars reports them."""
    if not metrics or not available():
        return pl.collect_all(frames), None
    import polars._plr as plr
    from polars._utils.wrap import wrap_df

    flags = pl.QueryOptFlags()
    flags._pyoptflags.query_monitoring = True
    seen: list[tuple[Any, bytes, bytes]] = []
    outer = getattr(_state, "sink", None)
    _state.sink = seen
    try:
        out = [
            wrap_df(df) for df in plr.collect_all([f._ldf for f in frames], "streaming", flags._pyoptflags)
        ]
    finally:
        _state.sink = outer
    return out, _read(seen, complete=True)


def _read(seen: list[tuple[Any, bytes, bytes]], *, complete: bool) -> QueryMetrics | None:
    if not seen:
        return None
    handle, ir, phys = seen[-1]
    try:
        snapshot = unpack(handle.snapshot_query_metrics())
        nodes = {n["phys_node_key"]: n for n in snapshot.get("nodes", [])}
        return QueryMetrics(unpack(ir), unpack(phys), nodes, complete)
    except Exception:
        return None


# -- attribution ------------------------------------------------------------------------
@dataclass
class TaskFigures:
    """What the plan's metrics say about one task."""

    rows: int | None = None
    seconds: float | None = None
    fused_into: str | None = None
    #: A later task whose work polars moved below this task's nodes (a pushed-down filter):
    #: the rows leaving this task's nodes are then not its output, and are not reported.
    after: str | None = None
    ran: bool = False
    nodes: list[int] = field(default_factory=list)


_SINKS = ("SinkMultiple", "InMemorySink", "FileSink", "PartitionSink", "CallbackSink")
_PASS = ("Multiplexer",)


def own_lines(
    frames: Mapping[str, pl.LazyFrame], inputs: Mapping[str, Iterable[str]]
) -> dict[str, Counter[str]]:
    """Each task's own plan lines: its plan's lines minus those of its lazy inputs."""
    full: dict[str, Counter[str]] = {}
    for nid, frame in frames.items():
        try:
            text = frame._ldf.describe_plan()
        except Exception:
            text = ""
        full[nid] = Counter(line.strip() for line in text.splitlines() if line.strip())
    own: dict[str, Counter[str]] = {}
    for nid, lines in full.items():
        ups = [full[u] for u in inputs.get(nid, ()) if u in full]
        if not ups:
            own[nid] = lines
            continue
        mine = dict(lines)
        for up in ups:
            for line, n in up.items():
                if line in mine:
                    if mine[line] > n:
                        mine[line] -= n
                    else:
                        del mine[line]
        own[nid] = Counter(mine)
    return own


def _keys(props: Mapping[str, Any]) -> list[str]:
    """Strings of an optimised plan node that identify the task line it came from."""
    kind = props.get("type")
    if kind == "Scan":
        keys = [f"SCAN [{props['first_source']}"] if props.get("first_source") else []
        return keys + [f"FILTER {p}" for p in props.get("predicate") or ()]
    if kind == "Filter":
        return [f"FILTER {p}" for p in props.get("predicate") or ()]
    if kind == "Join":
        return [f"LEFT PLAN ON: [{', '.join(props.get('left_on') or ())}]"]
    if kind == "GroupBy":
        return [f"[{', '.join(props.get('aggs') or ())}] BY [{', '.join(props.get('keys') or ())}]"]
    if kind == "Sort":
        cols = ", ".join(c.get("expr", "") for c in props.get("sort_columns") or ())
        return [f"SORT BY [{cols}]"]
    if kind in ("HStack", "Select"):
        return [e for e in props.get("exprs") or () if not (e.startswith('col("') and e.endswith('")'))]
    if kind == "MapFunction":
        return [str(props.get("function", ""))]
    if kind == "Distinct":
        return ["UNIQUE["]
    if kind == "Union":
        return ["UNION["]
    if kind == "HConcat":
        return ["HCONCAT"]
    if kind == "DataFrameScan":
        return [f"DF [{', '.join(json.dumps(n) for n in props.get('schema_names') or ())}]"]
    return []


def attribute(
    metrics: QueryMetrics,
    own: Mapping[str, Counter[str]],
    order: Sequence[str],
    roots: Sequence[str | None] = (),
    ancestors: Mapping[str, set[str]] | None = None,
) -> dict[str, TaskFigures]:
    """Figures per task id from one collection's metrics.

    ``own`` holds each task's own plan lines (see :func:`own_lines`), ``order`` the
    tasks in topological order (writers of lazy sinks included) and ``roots`` the task
    of each frame handed to the collection, in order (a lazy sink's writer); ``ancestors``
    each task's upstream tasks (to tell apart identical steps of parallel branches).
    """
    ancestors = ancestors or {}
    rank = {nid: i for i, nid in enumerate(order)}
    left = {nid: dict(lines) for nid, lines in own.items()}
    ordered = sorted((nid for nid in left if left[nid]), key=rank.__getitem__)  # upstream first
    ir = {n["id"]: n for n in metrics.ir}
    owner: dict[int, str] = {}
    consumed_by: dict[str, str] = {}
    for node in ir.values():
        if node["properties"].get("type") == "SinkMultiple":
            for i, root in zip(node["input_ids"], roots, strict=False):
                if root is not None and ir.get(i, {}).get("properties", {}).get("type") == "Sink":
                    owner[i] = root

    for node_id in _bottom_up(ir):
        if node_id in owner:
            continue
        node = ir[node_id]
        below = {owner[i] for i in node["input_ids"] if i in owner}
        used: list[str] = []
        for key in _keys(node["properties"]):
            if not key:
                continue
            found = [(nid, ln) for nid in ordered for ln in left[nid] if key in ln]
            if not found:
                continue
            # identical lines in several tasks (six branches sorting the same way): prefer the
            # task that builds on what this node reads, else the most upstream one
            near = [(nid, ln) for nid, ln in found if nid in below or below & ancestors.get(nid, set())]
            nid, line = (near or found)[0]
            lines = left[nid]
            lines[line] -= 1
            if not lines[line]:
                del lines[line]  # consumed: later keys skip it
            used.append(nid)
        if used:
            owner[node_id] = max(used, key=rank.__getitem__)
            for nid in used:
                if nid != owner[node_id]:
                    consumed_by.setdefault(nid, owner[node_id])
        elif below:
            owner[node_id] = max(below, key=rank.__getitem__)
    _fill_leaves(ir, owner)

    figures = {nid: TaskFigures() for nid in (*own, *(r for r in roots if r is not None))}
    consumers: dict[int, list[int]] = {}
    for p in metrics.phys:
        for i in p["input_ids"]:
            consumers.setdefault(i, []).append(p["id"])
    task_of = {p["id"]: owner.get(p["ir_node_id"]) for p in metrics.phys}
    kinds = {p["id"]: p["properties"].get("type") for p in metrics.phys}
    phys_ir = {p["id"]: p["ir_node_id"] for p in metrics.phys}
    for p in metrics.phys:
        nid = task_of[p["id"]]
        if nid is None or nid not in figures:
            continue
        m = metrics.nodes.get(p["id"])
        fig = figures[nid]
        fig.nodes.append(p["id"])
        if m is None:
            continue
        fig.ran = fig.ran or bool(m.get("total_polls") or m.get("rows_sent") or m.get("rows_received"))
        fig.seconds = (fig.seconds or 0.0) + m.get("total_time_ns", 0) / 1e9
    for nid, fig in figures.items():
        tops = [
            pid
            for pid in fig.nodes
            if kinds[pid] not in _SINKS
            and not any(task_of.get(c) == nid and kinds[c] not in _SINKS for c in consumers.get(pid, ()))
        ]
        best = None
        if tops == [] and fig.nodes:  # a writer: the rows its sink received
            tops = [pid for pid in fig.nodes if kinds[pid] in ("FileSink", "PartitionSink")]
        for pid in tops:
            m = metrics.nodes.get(pid) or {}
            rows = m.get("rows_received") if kinds[pid] in (*_PASS, *_SINKS) else m.get("rows_sent")
            if rows is not None and m.get("done", metrics.complete):
                best = rows if best is None else max(best, rows)
        fig.rows = best if metrics.complete else None
        later = _later_below({phys_ir[pid] for pid in tops}, ir, owner, rank, nid)
        if later is not None:
            fig.rows, fig.after = None, later
        if not fig.nodes:
            fig.seconds = None
            fig.fused_into = consumed_by.get(nid)
    return figures


def _later_below(
    tops: set[int],
    ir: Mapping[int, dict[str, Any]],
    owner: Mapping[int, str],
    rank: Mapping[str, int],
    nid: str,
) -> str | None:
    """A task later than ``nid`` owning a plan node at or below ``nid``'s top nodes, if any."""
    stack, seen = list(tops), set()
    while stack:
        i = stack.pop()
        if i in seen or i not in ir:
            continue
        seen.add(i)
        other = owner.get(i)
        if other is not None and other != nid and rank.get(other, -1) > rank.get(nid, -1):
            return other
        stack.extend(ir[i]["input_ids"])
    return None


def _bottom_up(ir: Mapping[int, dict[str, Any]]) -> list[int]:
    seen: set[int] = set()
    out: list[int] = []

    def visit(i: int) -> None:
        stack = [(i, False)]
        while stack:
            node, done = stack.pop()
            if done:
                out.append(node)
                continue
            if node in seen or node not in ir:
                continue
            seen.add(node)
            stack.append((node, True))
            stack.extend((c, False) for c in ir[node]["input_ids"])

    for i in ir:
        visit(i)
    return out


def _fill_leaves(ir: Mapping[int, dict[str, Any]], owner: dict[int, str]) -> None:
    """Nodes still without a task (a literal frame, a pruned projection) take their consumer's."""
    changed = True
    while changed:
        changed = False
        for node_id, node in ir.items():
            if node_id not in owner:
                continue
            for i in node["input_ids"]:
                if i not in owner:
                    owner[i] = owner[node_id]
                    changed = True


# -- msgpack (polars sends its plans and metrics in it) -----------------------------------
def unpack(data: bytes) -> Any:
    """Decode one msgpack value (``msgpack`` when installed, else a small decoder)."""
    try:
        import msgpack

        return msgpack.unpackb(data, raw=False, strict_map_key=False)
    except ImportError:
        value, _ = _unpack(memoryview(data), 0)
        return value


def _unpack(buf: memoryview, i: int) -> tuple[Any, int]:
    b = buf[i]
    i += 1
    if b <= 0x7F:
        return b, i
    if 0x80 <= b <= 0x8F:
        return _map(buf, i, b & 0x0F)
    if 0x90 <= b <= 0x9F:
        return _array(buf, i, b & 0x0F)
    if 0xA0 <= b <= 0xBF:
        n = b & 0x1F
        return bytes(buf[i : i + n]).decode(), i + n
    if b >= 0xE0:
        return b - 0x100, i
    if b == 0xC0:
        return None, i
    if b in (0xC2, 0xC3):
        return b == 0xC3, i
    fixed = {
        0xCC: ">B",
        0xCD: ">H",
        0xCE: ">I",
        0xCF: ">Q",
        0xD0: ">b",
        0xD1: ">h",
        0xD2: ">i",
        0xD3: ">q",
        0xCA: ">f",
        0xCB: ">d",
    }
    if b in fixed:
        fmt = fixed[b]
        size = struct.calcsize(fmt)
        return struct.unpack_from(fmt, buf, i)[0], i + size
    lengths = {0xD9: ">B", 0xDA: ">H", 0xDB: ">I", 0xC4: ">B", 0xC5: ">H", 0xC6: ">I"}
    if b in lengths:
        fmt = lengths[b]
        size = struct.calcsize(fmt)
        n = struct.unpack_from(fmt, buf, i)[0]
        i += size
        raw = bytes(buf[i : i + n])
        return (raw.decode() if b in (0xD9, 0xDA, 0xDB) else raw), i + n
    if b in (0xDC, 0xDD):
        fmt = ">H" if b == 0xDC else ">I"
        n = struct.unpack_from(fmt, buf, i)[0]
        return _array(buf, i + struct.calcsize(fmt), n)
    if b in (0xDE, 0xDF):
        fmt = ">H" if b == 0xDE else ">I"
        n = struct.unpack_from(fmt, buf, i)[0]
        return _map(buf, i + struct.calcsize(fmt), n)
    raise ValueError(f"unsupported msgpack type 0x{b:02x}")


def _array(buf: memoryview, i: int, n: int) -> tuple[list[Any], int]:
    out = []
    for _ in range(n):
        value, i = _unpack(buf, i)
        out.append(value)
    return out, i


def _map(buf: memoryview, i: int, n: int) -> tuple[dict[Any, Any], int]:
    out = {}
    for _ in range(n):
        key, i = _unpack(buf, i)
        value, i = _unpack(buf, i)
        out[key] = value
    return out, i
