"""An interpreter of Amazon States Language, as Step Functions runs a state machine.

It covers what a generated definition uses and what a reader expects of one: ``Task``,
``Parallel`` (branches really run at once), ``Map``, ``Choice``, ``Wait``, ``Pass``, ``Fail``,
``Succeed``; ``InputPath``/``Parameters``/``ResultSelector``/``ResultPath``/``OutputPath``;
``Retry`` and ``Catch``; the context object (``$$.Execution.Name``) and the intrinsic
functions ``States.Format``, ``States.Array``, ``States.JsonToString``, ``States.StringToJson``.

What a Task does is the caller's: ``invoke(resource, parameters, state_name)`` returns the
task's result or raises :class:`TaskFailure` with the error name Step Functions would see.
``Wait`` states do not sleep; the time they would wait is added to ``waited``.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

__all__ = ["TaskFailure", "ExecutionFailed", "Execution", "json_path", "intrinsic"]

Invoke = Callable[[str, Any, str], Any]


class TaskFailure(Exception):
    """A state failed with ``error`` (``States.TaskFailed``, ``Lambda.Unknown`` ...)."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


class ExecutionFailed(TaskFailure):
    """The whole execution failed (a ``Fail`` state or an error no ``Catch`` handled)."""

    def __init__(self, error: str, cause: str, state: str) -> None:
        super().__init__(error, cause)
        self.state = state


_SEGMENT = re.compile(r"\.([A-Za-z0-9_$\-]+)|\[(\d+)\]|\['([^']+)'\]")


def json_path(path: str, data: Any, context: Any = None) -> Any:
    """The value at a reference path (``$``, ``$.a.b``, ``$.a[0]``, ``$$.Execution.Name``)."""
    if path.startswith("$$"):
        data, rest = context, path[2:]
    elif path.startswith("$"):
        rest = path[1:]
    else:
        raise TaskFailure("States.Runtime", f"{path!r} is not a path (it must start with '$')")
    pos = 0
    while pos < len(rest):
        m = _SEGMENT.match(rest, pos)
        if not m:
            raise TaskFailure("States.Runtime", f"cannot read path {path!r}")
        key = m.group(1) or m.group(3)
        try:
            data = data[int(m.group(2))] if key is None else data[key]
        except (KeyError, IndexError, TypeError):
            raise TaskFailure("States.Runtime", f"path {path!r} matches nothing in the input") from None
        pos = m.end()
    return data


def _set_path(data: Any, path: str | None, value: Any) -> Any:
    """``ResultPath``: put ``value`` into (a copy of) ``data`` at ``path``."""
    if path is None:
        return data
    if path == "$":
        return value
    out = copy.deepcopy(data) if isinstance(data, dict) else {}
    keys = [m.group(1) or m.group(3) for m in _SEGMENT.finditer(path[1:])]
    node = out
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = value
    return out


def _split_args(text: str) -> list[str]:
    args, depth, quote, start = [], 0, False, 0
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == "'":
                quote = False
        elif ch == "'":
            quote = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(text[start:i].strip())
            start = i + 1
        i += 1
    tail = text[start:].strip()
    if tail:
        args.append(tail)
    return args


def intrinsic(expr: str, data: Any, context: Any) -> Any:
    """Evaluate an intrinsic function call or a path."""
    expr = expr.strip()
    if expr.startswith("'") and expr.endswith("'"):
        return re.sub(r"\\(.)", r"\1", expr[1:-1])
    if expr.startswith("$"):
        return json_path(expr, data, context)
    m = re.fullmatch(r"(States\.[A-Za-z]+)\((.*)\)", expr, re.S)
    if not m:
        try:
            return json.loads(expr)
        except ValueError:
            raise TaskFailure("States.Runtime", f"cannot evaluate {expr!r}") from None
    name, args = m.group(1), [intrinsic(a, data, context) for a in _split_args(m.group(2))]
    if name == "States.Array":
        return args
    if name == "States.Format":
        pieces = re.split(r"(?<!\\)\{\}", args[0])
        if len(pieces) - 1 != len(args) - 1:
            raise TaskFailure("States.IntrinsicFailure", f"{expr}: {{}} and arguments do not match")
        out = pieces[0]
        for value, piece in zip(args[1:], pieces[1:], strict=True):
            out += (value if isinstance(value, str) else json.dumps(value)) + piece
        return out
    if name == "States.JsonToString":
        return json.dumps(args[0], separators=(",", ":"))
    if name == "States.StringToJson":
        return json.loads(args[0])
    raise TaskFailure("States.IntrinsicFailure", f"{name} is not supported by the rehearsal")


def _payload(template: Any, data: Any, context: Any) -> Any:
    """``Parameters``/``ResultSelector``: keys ending in ``.$`` take a path or an intrinsic."""
    if isinstance(template, dict):
        out = {}
        for key, value in template.items():
            if key.endswith(".$"):
                out[key[:-2]] = intrinsic(value, data, context)
            else:
                out[key] = _payload(value, data, context)
        return out
    if isinstance(template, list):
        return [_payload(v, data, context) for v in template]
    return template


def _matches(errors: list[str], error: str) -> bool:
    """Step Functions: ``States.ALL`` matches every error, ``States.TaskFailed`` every error
    but a timeout."""
    if "States.ALL" in errors or error in errors:
        return True
    return "States.TaskFailed" in errors and error != "States.Timeout"


_COMPARE = {
    "StringEquals": lambda a, b: isinstance(a, str) and a == b,
    "StringMatches": lambda a, b: (
        isinstance(a, str) and re.fullmatch(re.escape(b).replace(r"\*", ".*"), a) is not None
    ),
    "NumericEquals": lambda a, b: isinstance(a, (int, float)) and a == b,
    "NumericLessThan": lambda a, b: isinstance(a, (int, float)) and a < b,
    "NumericGreaterThan": lambda a, b: isinstance(a, (int, float)) and a > b,
    "NumericLessThanEquals": lambda a, b: isinstance(a, (int, float)) and a <= b,
    "NumericGreaterThanEquals": lambda a, b: isinstance(a, (int, float)) and a >= b,
    "BooleanEquals": lambda a, b: isinstance(a, bool) and a == b,
}


@dataclass
class Execution:
    """One execution of ``definition``; ``run(input)`` returns its output."""

    definition: dict[str, Any]
    invoke: Invoke
    name: str = "rehearsal"
    waited: float = 0.0
    transitions: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def context(self) -> dict[str, Any]:
        return {"Execution": {"Name": self.name, "Id": f"rehearsal:{self.name}"}}

    def run(self, data: Any = None) -> Any:
        return self._machine(self.definition, {} if data is None else data)

    def _machine(self, machine: dict[str, Any], data: Any) -> Any:
        states = machine["States"]
        name = machine["StartAt"]
        while True:
            state = states[name]
            with self._lock:
                self.transitions.append(name)
            nxt, data = self._state(name, state, data)
            if nxt is None:
                return data
            name = nxt

    def _choice_ok(self, rule: dict[str, Any], data: Any) -> bool:
        if "And" in rule:
            return all(self._choice_ok(r, data) for r in rule["And"])
        if "Or" in rule:
            return any(self._choice_ok(r, data) for r in rule["Or"])
        if "Not" in rule:
            return not self._choice_ok(rule["Not"], data)
        try:
            value = json_path(rule["Variable"], data, self.context)
        except TaskFailure:
            return rule.get("IsPresent") is False
        if "IsPresent" in rule:
            return bool(rule["IsPresent"])
        for op, test in _COMPARE.items():
            if op in rule:
                return bool(test(value, rule[op]))
            if op + "Path" in rule:
                return bool(test(value, json_path(rule[op + "Path"], data, self.context)))
        raise TaskFailure("States.Runtime", f"choice rule {rule} uses an operator the rehearsal lacks")

    def _state(self, name: str, state: dict[str, Any], data: Any) -> tuple[str | None, Any]:
        kind = state["Type"]
        nxt = None if state.get("End") else state.get("Next")
        if kind == "Fail":
            raise ExecutionFailed(state.get("Error", "States.Fail"), state.get("Cause", ""), name)
        if kind == "Succeed":
            return None, data
        if kind == "Choice":
            for rule in state.get("Choices", []):
                if self._choice_ok(rule, data):
                    return rule["Next"], data
            if "Default" not in state:
                raise TaskFailure("States.NoChoiceMatched", f"no choice of state {name} matched")
            return state["Default"], data
        effective = json_path(state["InputPath"], data, self.context) if state.get("InputPath") else data
        if kind == "Wait":
            self.waited += float(state.get("Seconds", 0))
            return nxt, data
        if kind == "Pass":
            result = state["Result"] if "Result" in state else effective
            if "Parameters" in state:
                result = _payload(state["Parameters"], effective, self.context)
            return nxt, self._output(state, data, result)
        try:
            result = self._attempts(name, state, effective)
        except TaskFailure as failure:
            for catcher in state.get("Catch", []):
                if _matches(catcher["ErrorEquals"], failure.error):
                    info = {"Error": failure.error, "Cause": failure.cause}
                    return catcher["Next"], _set_path(data, catcher.get("ResultPath", "$"), info)
            if isinstance(failure, ExecutionFailed):
                raise
            raise ExecutionFailed(failure.error, failure.cause, name) from None
        return nxt, self._output(state, data, result)

    def _output(self, state: dict[str, Any], data: Any, result: Any) -> Any:
        if "ResultSelector" in state:
            result = _payload(state["ResultSelector"], result, self.context)
        out = _set_path(data, state.get("ResultPath", "$"), result)
        return json_path(state["OutputPath"], out, self.context) if state.get("OutputPath") else out

    def _attempts(self, name: str, state: dict[str, Any], data: Any) -> Any:
        used: dict[int, int] = {}
        while True:
            try:
                return self._run_once(name, state, data)
            except TaskFailure as failure:
                for i, retrier in enumerate(state.get("Retry", [])):
                    if _matches(retrier["ErrorEquals"], failure.error):
                        if used.get(i, 0) >= retrier.get("MaxAttempts", 3):
                            raise
                        interval = retrier.get("IntervalSeconds", 1)
                        self.waited += interval * retrier.get("BackoffRate", 2.0) ** used.get(i, 0)
                        used[i] = used.get(i, 0) + 1
                        break
                else:
                    raise

    def _run_once(self, name: str, state: dict[str, Any], data: Any) -> Any:
        kind = state["Type"]
        params = _payload(state["Parameters"], data, self.context) if "Parameters" in state else data
        if kind == "Task":
            return self.invoke(state["Resource"], params, name)
        if kind == "Parallel":
            branches = state["Branches"]
            with ThreadPoolExecutor(max_workers=len(branches)) as pool:
                futures = [pool.submit(self._machine, b, params) for b in branches]
                errors = [f.exception() for f in futures]
            for error in errors:
                if error is not None:
                    raise error
            return [f.result() for f in futures]
        if kind == "Map":
            items = json_path(state.get("ItemsPath", "$"), data, self.context)
            processor = state.get("ItemProcessor") or state["Iterator"]
            workers = state.get("MaxConcurrency") or len(items) or 1
            with ThreadPoolExecutor(max_workers=workers) as pool:
                return list(pool.map(lambda item: self._machine(processor, item), items))
        raise TaskFailure("States.Runtime", f"state {name} has a type the rehearsal lacks: {kind}")
