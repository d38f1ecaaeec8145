"""The one DAG renderer: a layered left-to-right layout drawn as SVG, or as text.

Tasks and the buckets they read or write are nodes; tasks are coloured by executor.
Used by a pipeline's display (the fallback wherever the interactive widget is unavailable:
a static HTML export, GitHub's notebook viewer, a kernel without anywidget), by the widget's
payload (the same layout), by ``%glacier dag`` and by ``glacier dag`` (text, SVG, HTML page).
Deterministic output, no JavaScript.
"""

from __future__ import annotations

import functools
import html
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from glacier.display._html import CSS, STATUS_COLORS, color_for, esc, fmt_signature, fmt_uri, svg_img

if TYPE_CHECKING:
    from glacier.graph import Graph
    from glacier.pipelines import Pipeline
    from glacier.run.record import RunRecord

__all__ = [
    "DagNode",
    "DagLayout",
    "layout",
    "dag_svg",
    "dag_text",
    "dag_html",
    "dag_summary",
    "graph_bundle",
    "pipeline_bundle",
]

NODE_W, NODE_H, GAP_X, GAP_Y, PAD = 150, 34, 48, 14, 12


@dataclass(slots=True)
class DagNode:
    """One box of the picture: a task (``kind="task"``) or a bucket (``kind="bucket"``)."""

    id: str
    label: str
    kind: str
    executor: str | None = None
    tooltip: str = ""
    layer: int = 0
    order: float = 0.0
    x: float = 0.0
    y: float = 0.0


@dataclass
class DagLayout:
    """Nodes with positions, edges between node ids, and the executors in legend order."""

    nodes: dict[str, DagNode] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)
    executors: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (kind, colour)
    width: float = 0.0
    height: float = 0.0


def _bucket_id(name: str) -> str:
    return f"bucket:{name}"


def layout(graph: Graph) -> DagLayout:
    """Place ``graph``'s tasks and buckets in layers, left to right (longest-path layering,
    one barycentre pass to reduce crossings)."""
    out = DagLayout()
    preds: dict[str, list[str]] = {}
    tips: dict[int, str] = {}  # one tooltip per task, however often it is called
    for node in graph.nodes.values():
        ex = node.task.executor
        if ex.name not in out.executors:
            out.executors[ex.name] = (ex.kind, color_for(len(out.executors)))
        tip = tips.get(id(node.task))
        if tip is None:
            sig = fmt_signature(node.task.name, node.task.signature)
            tip = tips[id(node.task)] = f"{sig}\nexecutor: {ex.name} ({ex.kind}, {ex.service})"
        out.nodes[node.id] = DagNode(node.id, node.id, "task", ex.name, tip)
        preds[node.id] = list(node.upstream)
    for node in graph.nodes.values():
        written = {id(b) for b in node.writes}
        for bucket in node.reads:
            if id(bucket) in written:
                continue
            bid = _bucket_id(bucket.name)
            out.nodes.setdefault(bid, DagNode(bid, bucket.name, "bucket", None, fmt_uri(bucket.get_uri())))
            preds.setdefault(bid, [])
            preds[node.id].append(bid)
        for bucket in node.writes:
            bid = _bucket_id(bucket.name)
            out.nodes.setdefault(bid, DagNode(bid, bucket.name, "bucket", None, fmt_uri(bucket.get_uri())))
            preds.setdefault(bid, []).append(node.id)
    for nid, ps in preds.items():
        for p in dict.fromkeys(ps):
            out.edges.append((p, nid))

    # Longest-path layering in topological order (Kahn); anything left in a cycle keeps layer 0.
    succ: dict[str, list[str]] = {nid: [] for nid in out.nodes}
    indeg = {nid: 0 for nid in out.nodes}
    for a, b in out.edges:
        succ[a].append(b)
        indeg[b] += 1
    queue = deque(nid for nid, d in indeg.items() if d == 0)
    topo: list[str] = []
    while queue:
        nid = queue.popleft()
        topo.append(nid)
        for child in succ[nid]:
            out.nodes[child].layer = max(out.nodes[child].layer, out.nodes[nid].layer + 1)
            indeg[child] -= 1
            if indeg[child] == 0:
                queue.append(child)
    # Source buckets sit just left of their first reader.
    for nid in topo:
        node = out.nodes[nid]
        if node.kind == "bucket" and not preds[nid] and succ[nid]:
            node.layer = max(0, min(out.nodes[c].layer for c in succ[nid]) - 1)

    layers: dict[int, list[DagNode]] = {}
    placed = set(topo)
    for nid in topo + [n for n in out.nodes if n not in placed]:
        layers.setdefault(out.nodes[nid].layer, []).append(out.nodes[nid])
    tallest = max((len(v) for v in layers.values()), default=0)
    for index in sorted(layers):
        column = layers[index]
        for i, node in enumerate(column):
            ups = [out.nodes[p].order for p in preds.get(node.id, ()) if out.nodes[p].layer < index]
            node.order = sum(ups) / len(ups) if ups else float(i)
        column.sort(key=lambda n: n.order)
        offset = (tallest - len(column)) * (NODE_H + GAP_Y) / 2
        for i, node in enumerate(column):
            node.order = float(i)
            node.x = PAD + index * (NODE_W + GAP_X)
            node.y = PAD + offset + i * (NODE_H + GAP_Y)
    n_layers = max(layers, default=-1) + 1
    out.width = 2 * PAD + n_layers * NODE_W + max(0, n_layers - 1) * GAP_X
    out.height = 2 * PAD + tallest * NODE_H + max(0, tallest - 1) * GAP_Y
    return out


@functools.lru_cache(maxsize=1024)
def _esc_tip(tip: str) -> str:
    """Escaped tooltips, memoised: a task called many times shares one tooltip."""
    return esc(tip)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _short(label: str, limit: int = 22) -> str:
    """Cut in the middle: ``raw/sales/nordics/2024-03`` keeps its distinguishing end."""
    if len(label) <= limit:
        return label
    head = limit // 2
    return label[:head] + "…" + label[len(label) - (limit - 1 - head) :]


def dag_svg(
    graph: Graph,
    *,
    statuses: dict[str, str] | None = None,
    details: dict[str, str] | None = None,
    lay: DagLayout | None = None,
    title: str | None = None,
) -> str:
    """The DAG as an SVG element (a standalone SVG document too).

    Parameters
    ----------
    graph : Graph
        The traced graph.
    statuses : dict, optional
        Node id -> run status: outlines the tasks.
    details : dict, optional
        Node id -> extra tooltip text.
    lay : DagLayout, optional
        A layout computed before (a live display redraws the same one).
    title : str, optional
        The picture's ``<title>``.
    """
    lay = lay or layout(graph)
    statuses = statuses or {}
    details = details or {}
    legend_h = 22
    w, h = max(lay.width, 240), lay.height + legend_h
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="glacier-dag" width="{w:.0f}" height="{h:.0f}" '
        f'viewBox="0 0 {w:.0f} {h:.0f}" font-family="system-ui,sans-serif" font-size="12">',
        '<defs><marker id="glacier-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#888"/></marker></defs>',
    ]
    if title:
        parts.insert(1, f"<title>{esc(title)}</title>")
    nodes = lay.nodes
    for a, b in lay.edges:
        na, nb = nodes[a], nodes[b]
        x1, y1 = na.x + NODE_W, na.y + NODE_H / 2
        x2, y2 = nb.x, nb.y + NODE_H / 2
        mid = (x1 + x2) / 2
        parts.append(
            f'<path class="glacier-edge" data-from="{esc(a)}" data-to="{esc(b)}" '
            f'd="M{x1:.0f},{y1:.0f}C{mid:.0f},{y1:.0f} {mid:.0f},{y2:.0f} {x2:.0f},{y2:.0f}" '
            'fill="none" stroke="#888" stroke-width="1.2" marker-end="url(#glacier-arrow)"/>'
        )
    for node in nodes.values():
        tip = node.tooltip + (f"\n{details[node.id]}" if node.id in details else "")
        if node.kind == "bucket":
            parts.append(
                f'<g class="glacier-bucket" data-id="{esc(node.id)}"><title>{esc(node.label)}\n{esc(tip)}</title>'
                f'<rect x="{node.x:.0f}" y="{node.y:.0f}" width="{NODE_W}" height="{NODE_H}" rx="14" '
                'fill="#f4f4f4" stroke="#888" stroke-dasharray="4 3"/>'
                f'<text x="{node.x + NODE_W / 2:.0f}" y="{node.y + NODE_H / 2 + 4:.0f}" text-anchor="middle" '
                f'fill="#444">{esc(_short(node.label))}</text></g>'
            )
            continue
        colour = lay.executors[node.executor or ""][1]
        status = statuses.get(node.id)
        stroke = STATUS_COLORS.get(status or "", colour)
        width = 3 if status else 1.5
        badge = f" · {status}" if status else ""
        parts.append(
            f'<g class="glacier-task" data-id="{esc(node.id)}" data-status="{esc(status or "")}">'
            f"<title>{_esc_tip(tip)}{esc(badge)}</title>"
            f'<rect x="{node.x:.0f}" y="{node.y:.0f}" width="{NODE_W}" height="{NODE_H}" rx="5" fill="#fff"/>'
            f'<rect x="{node.x:.0f}" y="{node.y:.0f}" width="{NODE_W}" height="{NODE_H}" rx="5" '
            f'fill="{colour}" fill-opacity="0.15" stroke="{stroke}" stroke-width="{width}"/>'
            f'<rect x="{node.x:.0f}" y="{node.y:.0f}" width="6" height="{NODE_H}" rx="2" fill="{colour}"/>'
            f'<text x="{node.x + 14:.0f}" y="{node.y + NODE_H / 2 + 4:.0f}" fill="#222">'
            f"{esc(_short(node.label + badge, 24))}</text></g>"
        )
    x = PAD
    y = lay.height + 6
    for name, (kind, colour) in lay.executors.items():
        label = f"{name} ({kind})"
        parts.append(
            f'<rect x="{x}" y="{y:.0f}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="{y + 9:.0f}" fill="#444">{esc(label)}</text>'
        )
        x += 24 + 7 * len(label)
    parts.append("</svg>")
    return "".join(parts)


def dag_text(graph: Graph, statuses: dict[str, str] | None = None) -> str:
    """One line per task in run order: ``name [executor] <- inputs -> outputs``."""
    statuses = statuses or {}
    width = max((len(n) for n in graph.nodes), default=0)
    lines = []
    for node in graph.nodes.values():
        ins = [*node.upstream, *(b.name for b in node.reads)]
        outs = [b.name for b in node.writes]
        line = f"  {node.id:<{width}}  [{node.task.executor.name}]"
        if ins:
            line += f"  <- {', '.join(ins)}"
        if outs:
            line += f"  -> {', '.join(outs)}"
        if node.id in statuses:
            line += f"  ({statuses[node.id]})"
        lines.append(line)
    return "\n".join(lines)


def dag_summary(graph: Graph, title: str) -> str:
    """``"TITLE: 2 tasks on 1 executor, 1 bucket"``: the first line of every DAG output."""
    executors = {n.task.executor.name for n in graph.nodes.values()}
    return (
        f"{title}: {_count(len(graph.nodes), 'task')} on {_count(len(executors), 'executor')}, "
        f"{_count(len(graph.buckets), 'bucket')}"
    )


def dag_html(graph: Graph, svg: str | None = None) -> str:
    """A standalone HTML page holding the DAG's SVG (``svg``, else drawn here)."""
    title = html.escape(f"pipeline {graph.name}")
    body = svg if svg is not None else dag_svg(graph, title=f"pipeline {graph.name}")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n</head>\n<body>\n<h1>{title}</h1>\n{body}\n</body>\n</html>\n"
    )


def pipeline_bundle(pipeline: Pipeline) -> dict[str, Any]:
    """``text/plain`` and ``text/html`` (with the SVG DAG) for a pipeline."""
    try:
        graph = pipeline.graph
    except Exception as exc:  # a pipeline that cannot be traced still displays
        text = f"{pipeline!r}\n  cannot draw the DAG: {type(exc).__name__}: {exc}"
        return {"text/plain": text, "text/html": f"{CSS}<div class='glacier'><pre>{esc(text)}</pre></div>"}
    return graph_bundle(
        graph, title=f"{pipeline!r}", description=pipeline.description, record=pipeline.last_run
    )


def graph_bundle(
    graph: Graph,
    *,
    title: str,
    description: str = "",
    record: RunRecord | None = None,
    statuses: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The bundle of a traced graph, outlined with ``statuses`` or the last run's."""
    details: dict[str, str] = {}
    if statuses is None and record is not None:
        statuses = {n: t.status for n, t in record.tasks.items() if n in graph.nodes}
    if record is not None:
        for nid, t in record.tasks.items():
            bits = [t.status]  # no durations: the picture stays the same run after run (nbval)
            if t.rows is not None:
                bits.append(f"{t.rows:,} rows")
            if t.error:
                bits.append(t.error)
            details[nid] = "last run: " + ", ".join(bits)
    head = dag_summary(graph, title)
    text = head + "\n" + dag_text(graph, statuses)
    svg = dag_svg(graph, statuses=statuses, details=details)
    doc = f"<div class='muted'>{esc(description.splitlines()[0])}</div>" if description else ""
    html = (
        f"{CSS}<div class='glacier'><h4>{esc(head)}</h4>{doc}"
        f"<div style='overflow:auto;max-height:640px;max-width:100%'>{svg_img(svg, f'DAG of {graph.name}')}</div></div>"
    )
    return {"text/plain": text, "text/html": html}
