"""A static picture of a pipeline's DAG (SVG, or an HTML page holding it).

The command line's fallback when :mod:`glacier.display` offers no SVG of its own: a
layered layout (a node's column is its longest path from a source), no JavaScript,
deterministic output.
"""

from __future__ import annotations

import html
from typing import Any

__all__ = ["dag_svg", "dag_html", "layers"]

_W, _H, _GAP_X, _GAP_Y, _PAD = 180, 46, 70, 22, 20


def layers(graph: Any) -> dict[str, int]:
    """Each node's column: 0 for sources, else one more than its deepest upstream."""
    depth: dict[str, int] = {}
    for nid, node in graph.nodes.items():  # call order is a topological order
        depth[nid] = max((depth[u] + 1 for u in node.upstream), default=0)
    return depth


def dag_svg(graph: Any) -> str:
    """An SVG document showing ``graph`` (a :class:`glacier.graph.Graph`)."""
    depth = layers(graph)
    rows: dict[int, int] = {}
    pos: dict[str, tuple[int, int]] = {}
    for nid in graph.nodes:
        col = depth[nid]
        row = rows.get(col, 0)
        rows[col] = row + 1
        pos[nid] = (_PAD + col * (_W + _GAP_X), _PAD + row * (_H + _GAP_Y))
    width = _PAD * 2 + (max(depth.values(), default=0) + 1) * (_W + _GAP_X) - _GAP_X
    height = _PAD * 2 + max(rows.values(), default=1) * (_H + _GAP_Y) - _GAP_Y
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="13">',
        f"<title>{html.escape(graph.name)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/>'
        "</marker></defs>",
    ]
    for up, down in graph.edges:
        (x1, y1), (x2, y2) = pos[up], pos[down]
        sx, sy, ex, ey = x1 + _W, y1 + _H // 2, x2, y2 + _H // 2
        mid = (sx + ex) // 2
        out.append(
            f'<path class="edge" data-from="{html.escape(up)}" data-to="{html.escape(down)}" '
            f'd="M {sx} {sy} C {mid} {sy}, {mid} {ey}, {ex} {ey}" fill="none" stroke="#555" '
            'stroke-width="1.5" marker-end="url(#arrow)"/>'
        )
    for nid, node in graph.nodes.items():
        x, y = pos[nid]
        executor = getattr(node.task.executor, "name", "")
        out.append(
            f'<g class="node" data-id="{html.escape(nid)}">'
            f'<rect x="{x}" y="{y}" width="{_W}" height="{_H}" rx="6" fill="#eef4fb" stroke="#3b6ea5"/>'
            f'<text x="{x + _W // 2}" y="{y + 19}" text-anchor="middle" font-weight="bold">{html.escape(nid)}</text>'
            f'<text x="{x + _W // 2}" y="{y + 36}" text-anchor="middle" fill="#555" font-size="11">'
            f"{html.escape(executor)}</text></g>"
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def dag_html(graph: Any, svg: str | None = None) -> str:
    """A standalone HTML page holding the DAG's SVG."""
    title = html.escape(f"pipeline {graph.name}")
    body = svg if svg is not None else dag_svg(graph)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n</head>\n<body>\n<h1>{title}</h1>\n{body}</body>\n</html>\n"
    )
