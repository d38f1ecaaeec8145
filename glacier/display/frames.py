"""Display of a preview: where it came from, the schema, and the first rows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glacier.display._html import CSS, esc

if TYPE_CHECKING:
    from glacier.preview import Preview

__all__ = ["preview_bundle"]


def _head(p: Preview) -> str:
    # No timings here: a saved notebook's outputs stay the same run after run (nbval).
    bits = [f"Preview of {p.source}"]
    if p.rows is not None:
        bits.append(f"first {p.rows.height} row(s), {len(p.schema)} column(s)")
    return " · ".join(bits)


def _lineage(p: Preview) -> list[str]:
    out = []
    if p.ran:
        out.append(f"ran: {', '.join(p.ran)}")
    if p.cached:
        out.append(f"from cache: {', '.join(p.cached)}")
    return out


def preview_bundle(p: Preview) -> dict[str, Any]:
    head = _head(p)
    schema_txt = ", ".join(f"{k}: {v}" for k, v in p.schema.items())
    lines = [head, *(f"  {x}" for x in _lineage(p))]
    if p.rows is None:
        lines.append(f"value: {p.value!r}")
        body = f"<pre>{esc(repr(p.value))}</pre>"
    else:
        lines.append(f"schema: {schema_txt}")
        lines.append(str(p.rows))
        schema_rows = "".join(
            f"<tr><td><code>{esc(k)}</code></td><td><code>{esc(v)}</code></td></tr>"
            for k, v in p.schema.items()
        )
        body = (
            "<div style='display:flex;gap:16px;align-items:flex-start;flex-wrap:wrap'>"
            f"<div><table class='gt'><thead><tr><th>column</th><th>type</th></tr></thead><tbody>{schema_rows}</tbody></table></div>"
            f"<div style='overflow:auto;max-width:100%'>{p.rows._repr_html_()}</div></div>"
        )
    html = (
        f"{CSS}<div class='glacier'><h4>{esc(head)}</h4>"
        + "".join(f"<div class='muted'>{esc(x)}</div>" for x in _lineage(p))
        + body
        + "</div>"
    )
    return {"text/plain": "\n".join(lines), "text/html": html}
