"""Pipeline parameters given as text, read the same way by ``glacier run --param`` and by
``%glacier run --param`` / ``%glacier preview --param``.

Each ``KEY=VALUE`` is converted by the annotation of the pipeline's parameter ``KEY``:

- ``bool``: ``1 true yes on y`` or ``0 false no off n`` (any case);
- ``int``, ``float``: the number (``--param n=3``); ``str``: the text as given;
- ``datetime.date``, ``datetime.datetime``: ISO 8601 (``2024-02-01``, ``2024-02-01T06:00``);
- ``X | None``: ``none`` or ``null`` is ``None``, anything else is read as ``X``;
- ``Literal["a", "b"]``: one of the listed values;
- ``list``, ``tuple``, ``set``, ``dict`` (bare or subscripted): a JSON array or object.

A value that does not convert is a :class:`~glacier.cli.errors.UsageError` naming the
parameter, the value and the expected type, raised before anything runs.

Unannotated parameters (the documented rule): a default of type ``bool``, ``int``, ``float``
or ``str`` gives the type; otherwise the value is a JSON literal when it is one (``3``,
``1.5``, ``true``, ``null``, ``[1, 2]``) and the text as given when it is not.
"""

from __future__ import annotations

import datetime
import inspect
import json
import types
import typing
from collections.abc import Sequence
from typing import Any

from glacier.cli.errors import UsageError, did_you_mean

__all__ = ["parse_params", "convert", "expected_type", "check_mode", "PARAM_HELP"]

#: The ``--param`` help of ``glacier run`` and ``%glacier run``/``preview``.
PARAM_HELP = (
    "a pipeline parameter (repeatable), converted by its annotation (bool, int, float, str, "
    "date, datetime, Optional, Literal; list/dict as JSON); unannotated: the default's type, "
    "else a JSON literal, else the text"
)

_TRUE = frozenset({"1", "true", "yes", "on", "y"})
_FALSE = frozenset({"0", "false", "no", "off", "n"})
_NONE = frozenset({"none", "null"})
_CONTAINERS = {list: list, tuple: list, set: list, frozenset: list, dict: dict}
_NAMED = {
    "bool": bool,
    "int": int,
    "float": float,
    "str": str,
    "date": datetime.date,
    "datetime": datetime.datetime,
}


def check_mode(mode: str) -> str:
    """``mode`` when it is a run mode, else a :class:`UsageError` listing the modes."""
    from glacier.pipelines import MODES

    if mode not in MODES:
        raise UsageError(f"--mode {mode!r} is not a run mode: use one of {', '.join(MODES)}")
    return mode


def parse_params(pipe: Any, items: Sequence[str] | None) -> dict[str, Any]:
    """``["day=2024-02-01", "n=3"]`` as keyword arguments for ``pipe``.

    Parameters
    ----------
    pipe : Pipeline
        The pipeline whose parameters the items name.
    items : sequence of str
        ``KEY=VALUE`` texts, as given after ``--param``.

    Examples
    --------
    >>> parse_params(numbers, ["n=3", "flag=yes"])  # doctest: +SKIP
    {'n': 3, 'flag': True}
    """
    params = pipe.signature.parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    names = [n for n, p in params.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    hints = _hints(pipe)
    out: dict[str, Any] = {}
    for item in items or ():
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise UsageError(f"--param takes KEY=VALUE, not {item!r} (for example --param day=2024-02-01)")
        if key not in names and not takes_any:
            known = ", ".join(names) or "none"
            raise UsageError(
                f"pipeline {pipe.name!r} has no parameter {key!r}; its parameters are: {known}"
                + did_you_mean(key, names)
            )
        kind = expected_type(params.get(key), hints.get(key, inspect.Parameter.empty))
        try:
            out[key] = convert(raw, kind)
        except ValueError:
            raise UsageError(
                f"--param {key}={raw}: {raw!r} is not a valid {_type_name(kind)} "
                f"(parameter {key!r} of pipeline {pipe.name!r})"
            ) from None
    return out


def expected_type(param: inspect.Parameter | None, hint: Any = inspect.Parameter.empty) -> Any:
    """The type a parameter's text converts to: its annotation, else its default's basic
    type, else ``None`` (a JSON literal or the text)."""
    if param is None:
        return None
    ann = param.annotation if hint is inspect.Parameter.empty else hint
    if isinstance(ann, str):  # an annotation the module's globals could not resolve
        ann = _NAMED.get(ann.replace(" ", "").split("|")[0].rsplit(".", 1)[-1], inspect.Parameter.empty)
    if ann is not inspect.Parameter.empty and ann is not Any:
        return ann
    if type(param.default) in (bool, int, float, str):
        return type(param.default)
    return None


def convert(raw: str, kind: Any) -> Any:
    """``raw`` read as ``kind`` (see the module's rules); ``ValueError`` when it is not one."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if len(options) < len(args) and raw.strip().lower() in _NONE:
            return None
        for option in options:
            try:
                return convert(raw, option)
            except ValueError:
                continue
        raise ValueError(raw)
    if origin is typing.Literal:
        for value in args:
            if str(value) == raw or (isinstance(value, bool) and raw.lower() in (_TRUE if value else _FALSE)):
                return value
        raise ValueError(raw)
    if kind is bool:
        low = raw.strip().lower()
        if low in _TRUE or low in _FALSE:
            return low in _TRUE
        raise ValueError(raw)
    if kind in (int, float, str):
        return kind(raw)
    if isinstance(kind, type) and issubclass(kind, datetime.date):
        return kind.fromisoformat(raw.strip())
    container = origin or kind
    if isinstance(container, type) and container in _CONTAINERS:
        value = json.loads(raw)
        if not isinstance(value, _CONTAINERS[container]):
            raise ValueError(raw)
        return value if container in (list, dict) else container(value)
    try:  # no type known (or one Glacier cannot read from text): a JSON literal, else the text
        return json.loads(raw)
    except ValueError:
        return raw


def _hints(pipe: Any) -> dict[str, Any]:
    """The pipeline function's annotations, resolved (``from __future__ import annotations``)."""
    try:
        return typing.get_type_hints(pipe.fn)
    except Exception:  # an annotation naming something the module does not define
        return {}


def _type_name(kind: Any) -> str:
    if isinstance(kind, type) and typing.get_origin(kind) is None:
        return kind.__name__
    return str(kind).replace("typing.", "")
