"""Google Cloud Workflows expressions (``${...}``): the part of the language generated
definitions use, evaluated as Workflows does.

Literals (numbers, strings, ``true``/``false``/``null``), variables with ``.key`` and
``[index]`` access, ``+ - * / %``, comparisons, ``in``, ``and``/``or``/``not``, and calls of
named functions (``sys.now()``, ``default(x, y)``, ``map.get(m, k)``, ``text.url_encode(s)``...)
supplied by the caller. A missing key is an error (``KeyError``), as in Workflows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["WorkflowError", "evaluate", "expression_of"]

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')"
    r"|(?P<op>==|!=|<=|>=|[-+*/%<>()\[\],.])|(?P<name>[A-Za-z_][A-Za-z0-9_]*))"
)


class WorkflowError(Exception):
    """An error raised in a workflow: ``value`` is what ``except: as: e`` binds."""

    def __init__(self, value: Any) -> None:
        super().__init__(value if isinstance(value, str) else value.get("message", str(value)))
        self.value = value

    @classmethod
    def of(cls, tag: str, message: str, **extra: Any) -> WorkflowError:
        return cls({"tags": [tag], "message": message, **extra})


def expression_of(value: Any) -> str | None:
    """The expression inside ``"${...}"``, or ``None`` for a plain value."""
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        return value[2:-1]
    return None


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise WorkflowError.of("SyntaxError", f"cannot read the expression {text!r} at {text[pos:]!r}")
        pos = m.end()
        if m.group("num") is not None:
            num = m.group("num")
            out.append(("lit", float(num) if "." in num else int(num)))
        elif m.group("str") is not None:
            raw = m.group("str")[1:-1]
            out.append(
                ("lit", re.sub(r"\\(.)", lambda x: {"n": "\n", "t": "\t"}.get(x.group(1), x.group(1)), raw))
            )
        elif m.group("op") is not None:
            out.append(("op", m.group("op")))
        else:
            name = m.group("name")
            literal = {"true": True, "false": False, "null": None}
            if name in literal:
                out.append(("lit", literal[name]))
            elif name in ("and", "or", "not", "in"):
                out.append(("op", name))
            else:
                out.append(("name", name))
    return out


class _Parser:
    def __init__(self, text: str, scope: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]]):
        self.tokens = _tokens(text)
        self.pos = 0
        self.scope = scope
        self.functions = functions
        self.text = text

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, Any]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise WorkflowError.of("SyntaxError", f"expected {value!r} in {self.text!r}")
        self.pos += 1
        return token

    def accept(self, *values: str) -> str | None:
        token = self.peek()
        if token is not None and token[0] == "op" and token[1] in values:
            self.pos += 1
            return str(token[1])
        return None

    def parse(self) -> Any:
        value = self.or_()
        if self.peek() is not None:
            raise WorkflowError.of("SyntaxError", f"unexpected {self.peek()[1]!r} in {self.text!r}")  # type: ignore[index]
        return value

    def or_(self) -> Any:
        value = self.and_()
        while self.accept("or"):
            right = self.and_()
            value = bool(value) or bool(right)
        return value

    def and_(self) -> Any:
        value = self.not_()
        while self.accept("and"):
            right = self.not_()
            value = bool(value) and bool(right)
        return value

    def not_(self) -> Any:
        if self.accept("not"):
            return not self.not_()
        return self.compare()

    def compare(self) -> Any:
        value = self.sum()
        op = self.accept("==", "!=", "<", ">", "<=", ">=", "in")
        if op is None:
            return value
        right = self.sum()
        if op == "in":
            return value in right
        if op in ("==", "!="):
            return (value == right) == (op == "==")
        return {"<": value < right, ">": value > right, "<=": value <= right, ">=": value >= right}[op]

    def sum(self) -> Any:
        value = self.product()
        while op := self.accept("+", "-"):
            right = self.product()
            if op == "+" and (isinstance(value, str) or isinstance(right, str)):
                if not (isinstance(value, str) and isinstance(right, str)):
                    raise WorkflowError.of(
                        "TypeError", f"cannot add {value!r} and {right!r} in {self.text!r}"
                    )
                value = value + right
            else:
                value = value + right if op == "+" else value - right
        return value

    def product(self) -> Any:
        value = self.unary()
        while op := self.accept("*", "/", "%"):
            right = self.unary()
            value = value * right if op == "*" else value / right if op == "/" else value % right
        return value

    def unary(self) -> Any:
        if self.accept("-"):
            return -self.unary()
        return self.postfix()

    def postfix(self) -> Any:
        kind, value = self.take()
        if kind == "op" and value == "(":
            result = self.or_()
            self.take(")")
        elif kind == "lit":
            result = value
        elif kind == "name":
            dotted = value
            while (
                self.peek() == ("op", ".")
                and self.pos + 1 < len(self.tokens)
                and self.tokens[self.pos + 1][0] == "name"
            ):
                candidate = dotted + "." + self.tokens[self.pos + 1][1]
                if candidate in self.functions or any(f.startswith(candidate + ".") for f in self.functions):
                    self.pos += 2
                    dotted = candidate
                else:
                    break
            if self.accept("("):
                args = []
                if not self.accept(")"):
                    args.append(self.or_())
                    while self.accept(","):
                        args.append(self.or_())
                    self.take(")")
                if dotted not in self.functions:
                    raise WorkflowError.of("NameError", f"function {dotted} is not one the rehearsal knows")
                result = self.functions[dotted](*args)
            elif dotted in self.functions:
                result = self.functions[dotted]
            elif value in self.scope:
                result = self.scope[value]
            else:
                raise WorkflowError.of("KeyError", f"variable {value!r} is not defined (in {self.text!r})")
        else:
            raise WorkflowError.of("SyntaxError", f"unexpected {value!r} in {self.text!r}")
        while True:
            if self.accept("."):
                _, key = self.take()
                result = self._index(result, key)
            elif self.accept("["):
                key = self.or_()
                self.take("]")
                result = self._index(result, key)
            else:
                return result

    def _index(self, value: Any, key: Any) -> Any:
        try:
            return value[key]
        except (KeyError, IndexError, TypeError):
            raise WorkflowError.of("KeyError", f"key {key!r} not found in {self.text!r}") from None


def evaluate(text: str, scope: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]]) -> Any:
    """The value of the expression ``text`` (without ``${}``)."""
    return _Parser(text, scope, functions).parse()
