"""What a task's code reads besides its arguments, for the cache key.

A cached task's result depends on more than its own source: module-level constants it
reads (``THRESHOLD = 5``, ``REGIONS = ("a", "b")``, a lookup ``DataFrame``) and the
module-level helper functions it calls, and what those read in turn. :func:`code_parts`
walks them, within the task's own module (a notebook's ``__main__``), and returns their
values and code, so editing any of them, the way re-running a notebook cell does,
changes the key.

A global the code writes to (``CALLS.append(...)``, ``SEEN[key] = ...``, ``global N``) is
state, not input, and is left out. Not seen either: values reached through an attribute
(``settings.LIMIT``), objects that are not plain data (a client, an open file) and helpers
imported from another module (their module is the user's to version).
"""

from __future__ import annotations

import datetime
import decimal
import dis
import enum
import fractions
import inspect
import marshal
import pathlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import polars as pl

__all__ = ["code_parts", "stable_repr"]

_SIMPLE = (str, int, float, bool, bytes, type(None), complex)
_PLAIN = (
    datetime.date,
    datetime.time,
    datetime.timedelta,
    decimal.Decimal,
    fractions.Fraction,
    uuid.UUID,
    pathlib.PurePath,
    enum.Enum,
)
#: Most elements a container constant may hold to be keyed by value (a bigger one is skipped).
_MAX_ITEMS = 100_000
#: Methods that change a list, dict or set in place: a global used with one is state.
_MUTATORS = frozenset(
    {"append", "extend", "insert", "remove", "pop", "popitem", "clear", "update", "add", "discard"}
    | {"setdefault", "sort", "reverse", "difference_update", "intersection_update"}
)


def code_parts(fn: Callable[..., Any]) -> list[str | bytes]:
    """Values of the plain globals and closure variables ``fn`` reads, and the code and
    values of the module-level functions it calls (recursively, within its module)."""
    module = getattr(fn, "__module__", None)
    parts: list[str | bytes] = []
    seen: set[int] = {id(fn)}
    queue = [fn]
    while queue:
        func = queue.pop(0)
        if func is not fn:
            parts += [f"fn:{func.__qualname__}", _source(func)]
        for kind, name, value in _reads(func):
            helper = _function(value)
            if helper is not None:
                if helper.__module__ == module and id(helper) not in seen:
                    seen.add(id(helper))
                    queue.append(helper)
                continue
            text = stable_repr(value)
            if text is not None:
                parts.append(f"{kind}:{func.__qualname__}:{name}={text}")
    return parts


def stable_repr(value: Any, depth: int = 0) -> str | None:
    """A text that changes when a plain value changes, or ``None`` for other objects.

    Simple values, dates, decimals, paths and enums; tuples, lists, sets and dicts of
    them; polars DataFrames (by content) and LazyFrames (by plan).
    """
    if isinstance(value, _SIMPLE + _PLAIN):
        return f"{type(value).__name__}:{value!r}"
    if isinstance(value, pl.DataFrame | pl.LazyFrame):
        from glacier.run.fingerprint import frame_fingerprint

        return f"frame:{frame_fingerprint(value)}"
    if depth > 8 or not isinstance(value, tuple | list | set | frozenset | dict):
        return None
    if len(value) > _MAX_ITEMS:
        return None
    if isinstance(value, dict):
        items = [(stable_repr(k, depth + 1), stable_repr(v, depth + 1)) for k, v in value.items()]
        if any(k is None or v is None for k, v in items):
            return None
        return "dict{" + ",".join(sorted(f"{k}:{v}" for k, v in items)) + "}"
    texts = [stable_repr(v, depth + 1) for v in value]
    if any(t is None for t in texts):
        return None
    if isinstance(value, set | frozenset):
        texts.sort()  # type: ignore[arg-type]
    return f"{type(value).__name__}[" + ",".join(texts) + "]"  # type: ignore[arg-type]


def _reads(func: Callable[..., Any]) -> Iterator[tuple[str, str, Any]]:
    code = getattr(func, "__code__", None)
    if code is None:
        return
    fglobals = getattr(func, "__globals__", {})
    written = _written(code)
    for name in sorted(set(_global_names(code)) - written):
        if name in fglobals:
            yield "g", name, fglobals[name]
    for name, cell in zip(code.co_freevars, getattr(func, "__closure__", None) or (), strict=False):
        if name in written:
            continue
        try:
            yield "c", name, cell.cell_contents
        except ValueError:  # an empty cell: the variable is not bound yet
            continue


def _global_names(code: Any) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if inspect.iscode(const):
            yield from _global_names(const)


def _written(code: Any) -> set[str]:
    """Global and closure names the code changes: ``X.append(...)``, ``X[k] = v``, ``global X``."""
    out: set[str] = set()
    ops = list(dis.get_instructions(code))
    for i, op in enumerate(ops):
        if op.opname in ("STORE_GLOBAL", "DELETE_GLOBAL", "STORE_DEREF"):
            out.add(op.argval)
        elif op.opname in ("LOAD_GLOBAL", "LOAD_DEREF", "LOAD_NAME"):
            after = ops[i + 1 : i + 4]
            if (
                after and after[0].opname in ("LOAD_METHOD", "LOAD_ATTR") and after[0].argval in _MUTATORS
            ) or any(a.opname in ("STORE_SUBSCR", "DELETE_SUBSCR") for a in after):
                out.add(op.argval)
    for const in code.co_consts:
        if inspect.iscode(const):
            out |= _written(const)
    return out


def _function(value: Any) -> Any:
    """The plain function behind ``value`` (itself, or what a decorator wraps), or ``None``."""
    if inspect.isfunction(value):
        return value
    if isinstance(value, type) or not callable(value):
        return None
    try:
        inner = inspect.unwrap(value)
    except ValueError:
        return None
    return inner if inspect.isfunction(inner) else None


def _source(func: Callable[..., Any]) -> bytes:
    try:
        return inspect.getsource(func).encode()
    except (OSError, TypeError):
        return marshal.dumps(func.__code__)  # type: ignore[attr-defined]
