"""Small HTML helpers shared by the renderers: escaping, tables, cards, colours."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

__all__ = [
    "fmt_signature",
    "fmt_uri",
    "svg_img",
    "esc",
    "table",
    "card",
    "kv_rows",
    "fmt_value",
    "fmt_seconds",
    "color_for",
    "PALETTE",
    "CSS",
]

#: Colour-blind friendly palette (Okabe-Ito), used for executors.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999")

STATUS_COLORS = {
    "pending": "#bbbbbb",
    "running": "#56B4E9",
    "planned": "#C9DCE8",
    "done": "#009E73",
    "cached": "#0072B2",
    "failed": "#D55E00",
    "skipped": "#999999",
}

CSS = (
    "<style>"
    ".glacier{font-family:var(--jp-ui-font-family,system-ui,sans-serif);font-size:13px;"
    "color:var(--jp-ui-font-color1,#222);line-height:1.35}"
    ".glacier h4{margin:.2em 0 .4em;font-size:14px}"
    ".glacier table.gt{border-collapse:collapse;margin:.2em 0 .6em}"
    ".glacier.glacier table.gt th,.glacier.glacier table.gt td{border-bottom:1px solid var(--jp-border-color2,#ddd);"
    "padding:2px 8px;text-align:left;vertical-align:top;background:none}"
    ".glacier.glacier table.gt th{font-weight:600}"
    ".glacier .muted{color:var(--jp-ui-font-color2,#777)}"
    ".glacier code{font-family:var(--jp-code-font-family,monospace);font-size:12px}"
    ".glacier .tag{display:inline-block;border-radius:3px;padding:0 5px;color:#fff;font-size:11px}"
    "</style>"
)


def esc(value: Any) -> str:
    """HTML-escape ``str(value)``."""
    return html.escape(str(value), quote=True)


def fmt_value(value: Any) -> str:
    """A short, readable text for a config value."""
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}={fmt_value(v)}" for k, v in value.items()) or "-"
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt_value(v) for v in value) or "-"
    return str(value)


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    if seconds < 120:
        return f"{seconds:.2f} s"
    return f"{seconds / 60:.1f} min"


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], *, raw: bool = False) -> str:
    """An HTML table; cells are escaped unless ``raw``."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{c if raw else esc(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table class='gt'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def kv_rows(items: dict[str, Any]) -> str:
    """A two-column key/value table (escaped)."""
    if not items:
        return '<div class="muted">(defaults)</div>'
    body = "".join(
        f"<tr><th>{esc(k)}</th><td><code>{esc(fmt_value(v))}</code></td></tr>" for k, v in items.items()
    )
    return f"<table class='gt'><tbody>{body}</tbody></table>"


def card(title: str, body: str) -> str:
    """Wrap ``body`` in the Glacier container with a title (``title`` is escaped)."""
    return f'{CSS}<div class="glacier"><h4>{esc(title)}</h4>{body}</div>'


def fmt_uri(uri: str) -> str:
    """A URI as shown in displays: a local path below the working folder is written
    relative to it (``./data/x.parquet``), so outputs say the same wherever they run."""
    if "://" in uri:
        return uri
    try:
        rel = Path(uri).relative_to(Path.cwd())
    except ValueError:
        return uri
    return f"./{rel.as_posix()}" if rel.parts else "."


def svg_img(svg: str, alt: str) -> str:
    """``svg`` as an ``<img>`` with a data URI: HTML sanitisers (untrusted notebooks,
    GitHub, nbconvert's ``--sanitize-html``) keep it where they strip inline SVG and styles."""
    data = quote(svg, safe=" /:=,;.()-_!*~@$+?'")
    return f'<img src="data:image/svg+xml;charset=utf-8,{data}" alt="{esc(alt)}"/>'


def color_for(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


_POLARS_NAMES = (
    ("polars.lazyframe.frame.LazyFrame", "pl.LazyFrame"),
    ("polars.dataframe.frame.DataFrame", "pl.DataFrame"),
    ("polars.series.series.Series", "pl.Series"),
)


def fmt_signature(name: str, signature: Any) -> str:
    """``name(params) -> return`` with polars classes written the way users write them."""
    from glacier.task import signature_text

    text = f"{name}{signature_text(signature)}"
    for long, short in _POLARS_NAMES:
        text = text.replace(long, short)
    return text
