"""An interpreter of Google Cloud Workflows definitions, as Workflows runs one execution.

It covers what a generated definition uses: ``assign``, ``call`` (with ``args`` and
``result``), ``switch`` (conditions with ``next``, ``raise`` or ``return``; a ``next`` of its
own), ``raise``, ``return``, ``next`` (``end`` too), ``try`` with ``retry`` (a predicate,
``max_retries``, a backoff) and ``except`` (``as``), nested ``steps``, and ``parallel``
``branches`` that really run at once, with ``shared`` variables and the ``continueAll``
policy (a failing branch does not stop the others; the step then raises its error).

What a call does is the caller's: ``call(name, args)`` returns the result or raises
:class:`WorkflowError` with the error map Workflows would bind (``{"tags": [...], ...}``).
``sys.sleep`` does not sleep for long: the time is added to ``waited`` and to the clock
``sys.now()`` reads.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from glacier.terraform.rehearse.wfexpr import WorkflowError, evaluate, expression_of

__all__ = ["WorkflowExecution", "WorkflowError", "Failed"]

Call = Callable[[str, dict[str, Any], str], Any]
#: How long a ``sys.sleep`` really pauses (work in other processes goes on meanwhile).
REAL_PAUSE = 0.2


class Failed(Exception):
    """The execution failed: ``error`` is the unhandled error, ``step`` where it was raised."""

    def __init__(self, error: Any, step: str) -> None:
        message = (
            error if isinstance(error, str) else (error.get("message") if isinstance(error, dict) else error)
        )
        super().__init__(f"step {step}: {message}")
        self.error = error
        self.step = step


class _Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


def _retry_default(error: Any) -> bool:
    if not isinstance(error, dict):
        return False
    tags = error.get("tags", [])
    return bool({"ConnectionError", "ConnectionFailedError", "TimeoutError"} & set(tags)) or error.get(
        "code"
    ) in (429, 502, 503, 504)


def _retry_non_idempotent(error: Any) -> bool:
    return isinstance(error, dict) and error.get("code") in (429, 503)


@dataclass
class _Scope:
    values: dict[str, Any]
    parent: _Scope | None = None
    shared: frozenset[str] = frozenset()

    def owner(self, name: str) -> _Scope:
        """Where an assignment to ``name`` goes: a branch writes its own variables, and the
        shared ones where they were assigned."""
        if name in self.values or name not in self.shared:
            return self
        scope = self.parent
        while scope is not None:
            if name in scope.values:
                return scope
            scope = scope.parent
        return self

    def flat(self) -> dict[str, Any]:
        chain, scope = [], self
        while scope is not None:
            chain.append(scope.values)
            scope = scope.parent
        out: dict[str, Any] = {}
        for values in reversed(chain):
            out.update(values)
        return out


@dataclass
class WorkflowExecution:
    """One execution of ``definition`` (its ``main``); ``run()`` returns its result."""

    definition: dict[str, Any]
    call: Call
    execution_id: str
    env: dict[str, str] = field(default_factory=dict)
    waited: float = 0.0
    steps_run: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _start: float = field(default_factory=time.time)

    def now(self) -> float:
        return self._start + (time.time() - self._start) + self.waited

    def functions(self) -> dict[str, Callable[..., Any]]:
        env = {"GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID": self.execution_id, **self.env}
        return {
            "sys.get_env": lambda name: env.get(name),
            "sys.now": self.now,
            "default": lambda value, fallback: fallback if value is None else value,
            "map.get": lambda m, key: m.get(key) if isinstance(m, dict) else None,
            "text.url_encode": lambda s: urllib.parse.quote(s, safe=""),
            "string": lambda v: str(v),
            "int": lambda v: int(v),
            "len": lambda v: len(v),
            "http.default_retry_predicate": _retry_default,
            "http.default_retry_predicate_non_idempotent": _retry_non_idempotent,
        }

    def run(self) -> Any:
        main = self.definition["main"]
        scope = _Scope({})
        try:
            return self._steps(main["steps"], scope)
        except _Return as done:
            return done.value
        except WorkflowError as err:
            raise Failed(err.value, getattr(err, "step", "main")) from None

    # -- values ----------------------------------------------------------------------
    def value(self, template: Any, scope: _Scope) -> Any:
        text = expression_of(template)
        if text is not None:
            return evaluate(text, scope.flat(), self.functions())
        if isinstance(template, dict):
            return {k: self.value(v, scope) for k, v in template.items()}
        if isinstance(template, list):
            return [self.value(v, scope) for v in template]
        return template

    def assign(self, scope: _Scope, name: str, value: Any) -> None:
        target = scope.owner(name)
        with self._lock:
            target.values[name] = value

    # -- steps -----------------------------------------------------------------------
    def _steps(self, steps: list[dict[str, Any]], scope: _Scope) -> Any:
        names = [next(iter(s)) for s in steps]
        i = 0
        while i < len(steps):
            name = names[i]
            with self._lock:
                self.steps_run += 1
            try:
                jump = self._step(name, steps[i][name], scope)
            except WorkflowError as err:
                if not hasattr(err, "step"):
                    err.step = name  # type: ignore[attr-defined]
                raise
            if jump is None:
                i += 1
            elif jump == "end":
                return None
            elif jump in names:
                i = names.index(jump)
            else:
                raise Failed(f"step {name} jumps to {jump!r}, which is not a step of its list", name)
        return None

    def _step(self, name: str, body: dict[str, Any], scope: _Scope) -> str | None:
        try:
            return self._body(name, body, scope)
        except WorkflowError:
            raise
        except (_Return, Failed):
            raise
        except Exception as exc:  # an expression error is a workflow error
            raise WorkflowError.of(type(exc).__name__, f"step {name}: {exc}") from None

    def _body(self, name: str, body: dict[str, Any], scope: _Scope) -> str | None:
        if "try" in body:
            self._try(name, body, scope)
        elif "assign" in body:
            for item in body["assign"]:
                for key, value in item.items():
                    self.assign(scope, key, self.value(value, scope))
        elif "call" in body:
            result = self._call(name, body["call"], self.value(body.get("args", {}), scope))
            if "result" in body:
                self.assign(scope, body["result"], result)
        elif "switch" in body:
            for case in body["switch"]:
                if self.value(case["condition"], scope):
                    return self._outcome(name, case, scope) or body.get("next")
        elif "parallel" in body:
            self._parallel(name, body["parallel"], scope)
        elif "steps" in body:
            self._steps(body["steps"], scope)
        elif "raise" in body:
            raise WorkflowError(self.value(body["raise"], scope))
        elif "return" in body:
            raise _Return(self.value(body["return"], scope))
        elif "next" not in body:
            raise Failed(f"step {name} has no kind the rehearsal knows: {sorted(body)}", name)
        return body.get("next")

    def _outcome(self, name: str, case: dict[str, Any], scope: _Scope) -> str | None:
        if "raise" in case:
            raise WorkflowError(self.value(case["raise"], scope))
        if "return" in case:
            raise _Return(self.value(case["return"], scope))
        if "steps" in case:
            self._steps(case["steps"], scope)
        return case.get("next")

    def _call(self, name: str, function: str, args: dict[str, Any]) -> Any:
        if function == "sys.sleep":
            seconds = float(args.get("seconds", 0))
            with self._lock:
                self.waited += seconds
            time.sleep(min(seconds, REAL_PAUSE))
            return None
        if function == "sys.log":
            return None
        return self.call(function, args, name)

    def _try(self, name: str, body: dict[str, Any], scope: _Scope) -> None:
        attempt = body["try"]
        retry = body.get("retry")
        tries = 0
        while True:
            try:
                if "steps" in attempt:
                    self._steps(attempt["steps"], scope)
                else:
                    self._body(name, attempt, scope)
                return
            except WorkflowError as err:
                tries += 1
                if retry and tries <= int(retry.get("max_retries", 0)):
                    predicate = self.value(retry["predicate"], scope)
                    if predicate(err.value):
                        backoff = retry.get("backoff", {})
                        delay = float(backoff.get("initial_delay", 1)) * float(
                            backoff.get("multiplier", 1.25)
                        ) ** (tries - 1)
                        with self._lock:
                            self.waited += min(delay, float(backoff.get("max_delay", delay)))
                        continue
                handler = body.get("except")
                if handler is None:
                    raise
                self.assign(scope, handler.get("as", "e"), err.value)
                self._steps(handler["steps"], scope)
                return

    def _parallel(self, name: str, spec: dict[str, Any], scope: _Scope) -> None:
        shared = frozenset(spec.get("shared", []))
        for var in shared:
            if var not in scope.flat():
                raise Failed(f"parallel step {name} shares {var!r}, which is not assigned before it", name)
        branches = spec["branches"]

        def branch(item: dict[str, Any]) -> None:
            ((_label, inner),) = item.items()
            self._steps(inner["steps"], _Scope({}, parent=scope, shared=shared))

        with ThreadPoolExecutor(max_workers=len(branches)) as pool:
            futures = [pool.submit(branch, b) for b in branches]
            errors = [f.exception() for f in futures]  # continueAll: every branch runs to its end
        for error in errors:
            if error is not None:
                raise error
