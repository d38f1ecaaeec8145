"""A small HCL writer that lays text out the way ``terraform fmt`` does.

Two-space indents; ``=`` aligned across consecutive one-line attributes (a blank
line, a comment, a nested block or a multi-line value ends the run); objects one
key per line; lists of scalars inline, other lists one item per line.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Raw", "Call", "Block", "Attr", "Comment", "Blank", "render_file", "quote", "key", "IDENT"]

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class Raw(str):
    """An HCL expression written as-is (``var.name``, ``aws_s3_bucket.x.arn``)."""

    __slots__ = ()


@dataclass(frozen=True)
class Call:
    """A function call: ``Call("jsonencode", {...})``."""

    name: str
    args: tuple[Any, ...]

    def __init__(self, name: str, *args: Any) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "args", args)


@dataclass
class Attr:
    name: str
    value: Any


@dataclass
class Comment:
    text: str


@dataclass
class Blank:
    pass


@dataclass
class Block:
    """``type "label" "label" { body }``."""

    type: str
    labels: Sequence[str] = ()
    body: list[Any] = field(default_factory=list)

    def attr(self, name: str, value: Any) -> Block:
        if value is not None:
            self.body.append(Attr(name, value))
        return self

    def block(self, type_: str, *labels: str) -> Block:
        child = Block(type_, labels)
        self.body.append(child)
        return child

    def add(self, *items: Any) -> Block:
        self.body.extend(i for i in items if i is not None)
        return self


_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def quote(text: str) -> str:
    """A quoted HCL string literal (template sequences escaped)."""
    out = text.translate(_ESCAPES)
    if "{" in out:
        out = out.replace("${", "$${").replace("%{", "%%{")
    return '"' + out + '"'


def template(text: str) -> Raw:
    """A quoted string whose ``${...}`` interpolations are kept (``"${x}"`` is just ``x``)."""
    whole = re.fullmatch(r"\$\{([^{}]*)\}", text)
    if whole:
        return Raw(whole.group(1))
    out = text.translate(_ESCAPES)
    return Raw('"' + out.replace("%{", "%%{") + '"')


@functools.lru_cache(maxsize=4096)
def key(name: str) -> str:
    """An object key: bare when it is an identifier, quoted otherwise."""
    return name if IDENT.fullmatch(name) and name not in ("true", "false", "null") else quote(name)


def _scalar(value: Any) -> str | None:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return quote(value)
    return None


def _value(value: Any, indent: int) -> list[str]:
    """Lines of ``value``; the first has no indent, the others are indented."""
    scalar = _scalar(value)
    if scalar is not None:
        return [scalar]
    pad = "  " * indent
    if isinstance(value, Call):
        if len(value.args) == 1 and isinstance(value.args[0], (dict, list, tuple)):
            inner = _value(value.args[0], indent)
            inner[0] = f"{value.name}({inner[0]}"
            inner[-1] = inner[-1] + ")"
            return inner
        parts = ["".join(_value(a, indent)) for a in value.args]
        return [f"{value.name}({', '.join(parts)})"]
    if isinstance(value, dict):
        if not value:
            return ["{}"]
        lines = ["{"]
        lines.extend(_body([Attr(k, v) for k, v in value.items()], indent + 1, object_keys=True))
        lines.append(pad + "}")
        return lines
    if isinstance(value, (list, tuple)):
        items = list(value)
        if not items:
            return ["[]"]
        scalars = [_scalar(i) for i in items]
        if all(s is not None for s in scalars):
            inline = "[" + ", ".join(scalars) + "]"  # type: ignore[arg-type]
            if len(inline) <= 100:
                return [inline]
        lines = ["["]
        inner = "  " * (indent + 1)
        for item in items:
            sub = _value(item, indent + 1)
            sub[0] = inner + sub[0]
            sub[-1] = sub[-1] + ","
            lines.extend(sub)
        lines.append(pad + "]")
        return lines
    raise TypeError(f"cannot write {type(value).__name__} as HCL: {value!r}")


def _body(items: Iterable[Any], indent: int, *, object_keys: bool = False) -> list[str]:
    pad = "  " * indent
    out: list[str] = []
    run: list[tuple[str, str]] = []

    def flush() -> None:
        if run:
            width = max(len(n) for n, _ in run)
            out.extend(f"{pad}{n.ljust(width)} = {v}" for n, v in run)
            run.clear()

    for item in items:
        if isinstance(item, Attr):
            name = key(item.name) if object_keys else item.name
            lines = _value(item.value, indent)
            if len(lines) == 1:
                run.append((name, lines[0]))
                continue
            flush()
            out.append(f"{pad}{name} = {lines[0]}")
            out.extend(lines[1:])
        elif isinstance(item, Block):
            flush()
            out.extend(_block(item, indent))
        elif isinstance(item, Comment):
            flush()
            out.extend(f"{pad}{line}".rstrip() for line in _comment_lines(item.text))
        elif isinstance(item, Blank):
            flush()
            out.append("")
        else:
            raise TypeError(f"cannot write {type(item).__name__} in an HCL body")
    flush()
    return out


def _comment_lines(text: str) -> list[str]:
    if text.startswith("#checkov:"):
        return [text]
    return [f"# {line}" if line else "#" for line in text.splitlines()]


def _block(block: Block, indent: int) -> list[str]:
    pad = "  " * indent
    head = " ".join([block.type, *(quote(label) for label in block.labels)])
    if not block.body:
        return [f"{pad}{head} {{}}"]
    return [f"{pad}{head} {{", *_body(block.body, indent + 1), f"{pad}}}"]


def render_file(items: Iterable[Any]) -> str:
    """A whole ``.tf`` file: top-level blocks and comments, one blank line between blocks."""
    chunks: list[str] = []
    for item in items:
        if isinstance(item, Block):
            chunks.append("\n".join(_block(item, 0)))
        elif isinstance(item, Comment):
            chunks.append("\n".join(_comment_lines(item.text)))
        else:
            raise TypeError(f"a .tf file holds blocks and comments, not {type(item).__name__}")
    return "\n\n".join(chunks) + "\n"
