"""Logic Apps expressions (the Workflow Definition Language), the part generated
definitions use: a string starting with ``@`` is an expression, ``@{...}`` inside a string
is interpolated, ``@@`` is a literal ``@``.

Expressions are function calls (``equals``, ``not``, ``and``, ``or``, ``body('x')``,
``outputs('x')``, ``workflow()``, ``concat``, ``coalesce`` ...), literals (``'text'`` with
``''`` for a quote, numbers, ``true``, ``false``, ``null``) and property access
(``['key']``, ``?['key']``, ``.key``; ``?`` gives ``null`` for a missing key).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["WdlError", "evaluate", "template", "condition"]

_TOKEN = re.compile(
    r"\s*(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<str>'(?:[^']|'')*')|(?P<op>\?\[|[()\[\],.?])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*))"
)


class WdlError(Exception):
    """An expression that cannot be evaluated (the action fails, as in Logic Apps)."""


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise WdlError(f"cannot read the expression {text!r} at {text[pos:]!r}")
        pos = m.end()
        if m.group("num") is not None:
            num = m.group("num")
            out.append(("lit", float(num) if "." in num else int(num)))
        elif m.group("str") is not None:
            out.append(("lit", m.group("str")[1:-1].replace("''", "'")))
        elif m.group("op") is not None:
            out.append(("op", m.group("op")))
        else:
            name = m.group("name")
            literal = {"true": True, "false": False, "null": None}
            out.append(("lit", literal[name]) if name in literal else ("name", name))
    return out


class _Parser:
    def __init__(self, text: str, functions: Mapping[str, Callable[..., Any]]) -> None:
        self.text, self.tokens, self.pos, self.functions = text, _tokens(text), 0, functions

    def take(self) -> tuple[str, Any]:
        if self.pos >= len(self.tokens):
            raise WdlError(f"the expression {self.text!r} ends too early")
        self.pos += 1
        return self.tokens[self.pos - 1]

    def accept(self, op: str) -> bool:
        if self.pos < len(self.tokens) and self.tokens[self.pos] == ("op", op):
            self.pos += 1
            return True
        return False

    def parse(self) -> Any:
        value = self.value()
        if self.pos != len(self.tokens):
            raise WdlError(f"unexpected {self.tokens[self.pos][1]!r} in {self.text!r}")
        return value

    def value(self) -> Any:
        kind, token = self.take()
        if kind == "lit":
            result = token
        elif kind == "name":
            if not self.accept("("):
                raise WdlError(f"{token!r} in {self.text!r} is not a function call")
            args = []
            if not self.accept(")"):
                args.append(self.value())
                while self.accept(","):
                    args.append(self.value())
                if not self.accept(")"):
                    raise WdlError(f"expected ')' in {self.text!r}")
            if token not in self.functions:
                raise WdlError(f"function {token}() is not one the rehearsal knows (in {self.text!r})")
            result = self.functions[token](*args)
        else:
            raise WdlError(f"unexpected {token!r} in {self.text!r}")
        while True:
            if self.accept("?["):
                result = self._index(result, self.value(), safe=True)
                self._close()
            elif self.accept("["):
                result = self._index(result, self.value(), safe=False)
                self._close()
            elif self.accept("?"):
                if self.accept("."):
                    result = self._index(result, self.take()[1], safe=True)
            elif self.accept("."):
                result = self._index(result, self.take()[1], safe=False)
            else:
                return result

    def _close(self) -> None:
        if not self.accept("]"):
            raise WdlError(f"expected ']' in {self.text!r}")

    def _index(self, value: Any, key: Any, *, safe: bool) -> Any:
        try:
            return value[key]
        except (KeyError, IndexError, TypeError):
            if safe:
                return None
            raise WdlError(f"property {key!r} cannot be read in {self.text!r}") from None


def evaluate(text: str, functions: Mapping[str, Callable[..., Any]]) -> Any:
    """The value of one expression (without the leading ``@``)."""
    return _Parser(text, functions).parse()


def template(value: Any, functions: Mapping[str, Callable[..., Any]]) -> Any:
    """A value of a definition with its expressions evaluated (dicts and lists too)."""
    if isinstance(value, dict):
        return {k: template(v, functions) for k, v in value.items()}
    if isinstance(value, list):
        return [template(v, functions) for v in value]
    if not isinstance(value, str):
        return value
    if value.startswith("@@"):
        return value[1:]
    if value.startswith("@") and not value.startswith("@{"):
        return evaluate(value[1:], functions)
    if "@{" not in value:
        return value

    def one(m: re.Match[str]) -> str:
        result = evaluate(m.group(1), functions)
        return result if isinstance(result, str) else json.dumps(result)

    return re.sub(r"@\{((?:[^{}']|'(?:[^']|'')*')*)\}", one, value)


_PREDICATES: dict[str, Callable[[list[Any]], bool]] = {
    "equals": lambda a: a[0] == a[1],
    "greater": lambda a: a[0] > a[1],
    "less": lambda a: a[0] < a[1],
    "greaterOrEquals": lambda a: a[0] >= a[1],
    "lessOrEquals": lambda a: a[0] <= a[1],
    "contains": lambda a: a[1] in a[0],
}


def condition(value: Any, functions: Mapping[str, Callable[..., Any]]) -> bool:
    """An ``If``'s ``expression``: a string expression or the object form
    (``{"not": {"equals": ["@x", "y"]}}``, ``and``, ``or``...)."""
    if isinstance(value, str):
        return bool(template(value, functions))
    if isinstance(value, bool):
        return value
    ((op, arg),) = value.items()
    if op == "not":
        return not condition(arg, functions)
    if op == "and":
        return all(condition(a, functions) for a in arg)
    if op == "or":
        return any(condition(a, functions) for a in arg)
    if op in _PREDICATES:
        return _PREDICATES[op]([template(a, functions) for a in arg])
    raise WdlError(f"condition {op!r} is not one the rehearsal knows")
