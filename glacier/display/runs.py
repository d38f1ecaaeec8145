"""Display of a run record: a per-task table and a timeline (Gantt) per task."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glacier.display._html import CSS, STATUS_COLORS, esc, fmt_seconds, svg_img

if TYPE_CHECKING:
    from glacier.run.record import RunRecord

__all__ = ["run_bundle", "run_table_html", "timeline_svg"]


def run_table_html(record: RunRecord) -> str:
    """One row per task: the same figures as ``record.summary()``."""
    rows = []
    for t in record.tasks.values():
        colour = STATUS_COLORS.get(t.status, "#999")
        notes = "; ".join(n for n in (t.note, t.error) if n)
        rows.append(
            "<tr>"
            f"<td><b>{esc(t.node)}</b></td><td>{esc(t.executor)}</td>"
            f"<td><span class='tag' style='background:{colour}'>{esc(t.status)}</span></td>"
            f"<td style='text-align:right'>{esc(t.call_text())}</td>"
            f"<td style='text-align:right'>{esc(t.compute_text())}</td>"
            f"<td style='text-align:right'>{esc(t.rows_text())}</td>"
            f"<td>{'yes' if t.cached else ''}</td><td style='text-align:right'>{t.attempts}</td>"
            f"<td>{esc(notes)}</td></tr>"
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "task",
            "executor",
            "status",
            "call",
            "compute",
            "rows out",
            "cache hit",
            "attempts",
            "note",
        )
    )
    return f"<table class='gt'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def timeline_svg(record: RunRecord, *, width: int = 560, row: int = 18) -> str:
    """Per task, relative to the run's start: its call (solid bar, coloured by status) and,
    for a task computed in the run's collection, its share of that collection (a lighter bar
    starting where the collection started, as long as the task's compute time)."""
    tasks = [t for t in record.tasks.values() if t.start is not None]
    if not tasks:
        return ""
    t0 = record.start if record.start is not None else min(t.start for t in tasks if t.start is not None)
    ends = [t.end for t in tasks if t.end is not None] + ([record.end] if record.end else [])
    ends += [t.compute_start + t.compute for t in tasks if t.compute_start is not None and t.compute]
    span = max(max(ends, default=t0) - t0, 1e-6)
    label_w = min(200, 8 * max(len(t.node) for t in tasks) + 10)
    plot = width - label_w - 10
    height = row * len(tasks) + 24
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="glacier-timeline" width="{width}" height="{height}" '
        'font-family="system-ui,sans-serif" font-size="11">'
    ]
    for i, t in enumerate(tasks):
        y = i * row + 2
        start = (t.start or t0) - t0
        end = (t.end if t.end is not None else t0 + span) - t0
        colour = STATUS_COLORS.get(t.status, "#999")
        title = f"{t.node}: {t.status}; call {t.call_text()}; compute {t.compute_text()}; {t.rows_text()}"
        if t.note:
            title += f" ({t.note})"
        parts.append(
            f'<g class="glacier-bar" data-id="{esc(t.node)}"><title>{esc(title)}</title>'
            f'<text x="{label_w - 6}" y="{y + 12}" text-anchor="end" fill="#444">{esc(t.node)}</text>'
            + _bar(label_w + plot * start / span, plot * (end - start) / span, y, row, colour, "call")
        )
        if t.compute_start is not None and t.compute:
            x = label_w + plot * (t.compute_start - t0) / span
            parts.append(_bar(x, plot * t.compute / span, y, row, colour, "compute", opacity=0.55))
        parts.append("</g>")
    axis_y = row * len(tasks) + 14
    parts.append(
        f'<line x1="{label_w}" y1="{axis_y - 10}" x2="{label_w + plot}" y2="{axis_y - 10}" stroke="#bbb"/>'
        f'<text x="{label_w}" y="{axis_y + 4}" fill="#777">0</text>'
        f'<text x="{label_w + plot}" y="{axis_y + 4}" text-anchor="end" fill="#777">{esc(fmt_seconds(span))}</text>'
        "</svg>"
    )
    return "".join(parts)


def _bar(x: float, w: float, y: int, row: int, colour: str, kind: str, *, opacity: float = 1.0) -> str:
    return (
        f'<rect class="{kind}" x="{x:.1f}" y="{y + 2}" width="{max(2.0, w):.1f}" height="{row - 5}" rx="2" '
        f'fill="{colour}" fill-opacity="{opacity}"/>'
    )


def _timeline_img(record: RunRecord) -> str:
    svg = timeline_svg(record)
    return svg_img(svg, f"timeline of run {record.run_id}") if svg else ""


def run_bundle(record: RunRecord) -> dict[str, Any]:
    duration = f" in {fmt_seconds(record.duration)}" if record.duration is not None else ""
    head = f"Run {record.run_id} of {record.pipeline!r} ({record.mode}): {record.status}{duration}"
    hits = record.cache_hits
    extra = []
    if record.params:
        extra.append("params: " + ", ".join(f"{k}={v!r}" for k, v in record.params.items()))
    if hits:
        extra.append(f"cache hits: {', '.join(hits)}")
    if record.error:
        extra.append(f"error: {record.error.splitlines()[0]}")
    text = record.summary() + "".join(f"\n  {line}" for line in extra)
    html = (
        f"{CSS}<div class='glacier'><h4>{esc(head)}</h4>"
        + "".join(f"<div class='muted'>{esc(line)}</div>" for line in extra)
        + run_table_html(record)
        + _timeline_img(record)
        + "</div>"
    )
    return {"text/plain": text, "text/html": html}
