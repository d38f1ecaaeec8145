"""An interpreter of Logic Apps workflow definitions, as a Logic App runs one instance.

It covers what a generated definition uses: actions run when their ``runAfter`` actions
have ended with one of the statuses listed (independent actions run at once; an action whose
predecessors ended otherwise is ``Skipped``); ``Scope``; ``If`` (``actions``/``else``);
``Until`` with its ``limit`` (``count`` and ``timeout``: reaching it fails the loop); ``Wait``;
``Terminate`` (the run ends with its status and error); and the calls, ``Function`` and
``Http``, which the caller performs: ``call(action, inputs)`` returns ``{"statusCode",
"headers", "body"}``; a status of 400 or more fails the action. A ``retryPolicy`` of
``exponential`` or ``fixed`` retries 408, 429, 5xx and connection failures.

``Wait`` does not wait for long: the time is added to ``waited`` and to the clock an
``Until``'s ``timeout`` is measured by.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from glacier.terraform.rehearse.wdl import WdlError, condition, template

__all__ = ["LogicAppRun", "Terminated", "iso_seconds"]

Call = Callable[[str, dict[str, Any]], dict[str, Any]]
REAL_PAUSE = 0.2
_UNITS = {"Second": 1, "Minute": 60, "Hour": 3600, "Day": 86400}


class Terminated(Exception):
    """The run ended: ``status`` (``Failed``...), ``error`` (its message) and the action."""

    def __init__(self, status: str, error: str, action: str) -> None:
        super().__init__(f"{action}: {error}")
        self.status, self.error, self.action = status, error, action


def iso_seconds(text: str) -> float:
    """``PT1H30M`` -> 5400."""
    m = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", text)
    if not m:
        raise WdlError(f"{text!r} is not an ISO 8601 duration")
    d, h, mi, s = (float(g) if g else 0.0 for g in m.groups())
    return d * 86400 + h * 3600 + mi * 60 + s


@dataclass
class LogicAppRun:
    """One run of the workflow whose top-level actions are ``actions``."""

    actions: dict[str, dict[str, Any]]
    call: Call
    run_name: str
    trigger_body: Any = None
    waited: float = 0.0
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    terminated: Terminated | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _start: float = field(default_factory=time.time)

    def clock(self) -> float:
        return time.time() - self._start + self.waited

    def functions(self) -> dict[str, Callable[..., Any]]:
        def output(name: str) -> Any:
            if name not in self.outputs:
                raise WdlError(f"action {name!r} has not run")
            return self.outputs[name]

        return {
            "equals": lambda a, b: a == b,
            "not": lambda a: not a,
            "and": lambda *a: all(a),
            "or": lambda *a: any(a),
            "body": lambda name: output(name).get("body"),
            "outputs": output,
            "workflow": lambda: {"run": {"name": self.run_name}},
            "triggerBody": lambda: self.trigger_body,
            "concat": lambda *a: "".join(str(x) for x in a),
            "coalesce": lambda *a: next((x for x in a if x is not None), None),
            "string": lambda a: a if isinstance(a, str) else str(a),
            "int": int,
            "empty": lambda a: not a,
            "if": lambda c, a, b: a if c else b,
        }

    def run(self) -> None:
        """Run every action; raise :class:`Terminated` when the run does not succeed."""
        status = self._actions(self.actions, "run")
        if self.terminated is not None:
            raise self.terminated
        if status != "Succeeded":
            failed = next((n for n, s in self.statuses.items() if s in ("Failed", "TimedOut")), "run")
            raise Terminated("Failed", self.errors.get(failed, f"action {failed} {status.lower()}"), failed)

    # -- scheduling ------------------------------------------------------------------
    def _actions(self, actions: dict[str, dict[str, Any]], scope: str) -> str:
        """Run a scope's actions by ``runAfter``; the scope's status."""
        done: dict[str, str] = {}
        running: dict[Future[str], str] = {}
        with ThreadPoolExecutor(max_workers=max(len(actions), 1)) as pool:
            while len(done) < len(actions):
                for name, action in actions.items():
                    if name in done or name in running.values():
                        continue
                    after = action.get("runAfter", {})
                    if any(dep not in done for dep in after):
                        continue
                    if self.terminated is not None or any(done[d] not in ok for d, ok in after.items()):
                        done[name] = self._set(name, "Skipped")
                        continue
                    running[pool.submit(self._action, name, action)] = name
                if len(done) == len(actions):
                    break
                if not running:
                    missing = sorted(set(actions) - set(done))
                    raise Terminated(
                        "Failed", f"actions {missing} run after actions that do not exist", scope
                    )
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in finished:
                    done[running.pop(future)] = future.result()
        if any(s in ("Failed", "TimedOut") for s in done.values()):
            return "Failed"
        return "Succeeded"

    def _set(self, name: str, status: str, error: str | None = None) -> str:
        with self._lock:
            self.statuses[name] = status
            if error:
                self.errors[name] = error
        return status

    def _action(self, name: str, action: dict[str, Any]) -> str:
        try:
            return self._set(name, self._run(name, action))
        except Terminated as stop:
            with self._lock:
                self.terminated = self.terminated or stop
            return self._set(name, "Succeeded")
        except (WdlError, KeyError, TypeError, ValueError) as exc:
            return self._set(name, "Failed", f"{type(exc).__name__}: {exc}")

    def _run(self, name: str, action: dict[str, Any]) -> str:
        kind = action["type"]
        fns = self.functions()
        if kind == "Scope":
            return self._actions(action.get("actions", {}), name)
        if kind == "If":
            branch = action if condition(action["expression"], fns) else action.get("else", {})
            return self._actions(branch.get("actions", {}), name)
        if kind == "Until":
            return self._until(name, action)
        if kind == "Wait":
            interval = action["inputs"]["interval"]
            seconds = float(interval["count"]) * _UNITS[interval["unit"]]
            with self._lock:
                self.waited += seconds
            time.sleep(min(seconds, REAL_PAUSE))
            return "Succeeded"
        if kind == "Terminate":
            inputs = template(action["inputs"], fns)
            error = inputs.get("runError", {})
            raise Terminated(inputs.get("runStatus", "Failed"), str(error.get("message", "")), name)
        if kind in ("Function", "Http"):
            return self._call(name, action)
        return self._set(name, "Failed", f"action type {kind} is not one the rehearsal runs")

    def _until(self, name: str, action: dict[str, Any]) -> str:
        limit = template(action.get("limit", {}), self.functions())
        count = int(limit.get("count", 60))
        timeout = iso_seconds(limit.get("timeout", "PT1H"))
        started = self.clock()
        for _ in range(count):
            status = self._actions(action.get("actions", {}), name)
            if status != "Succeeded":
                return status
            if condition(action["expression"], self.functions()):
                return "Succeeded"
            if self.terminated is not None:
                return "Failed"
            if self.clock() - started > timeout:
                break
        self._set(name, "Failed", f"the loop reached its limit ({count} times or {limit.get('timeout')})")
        return "Failed"

    def _call(self, name: str, action: dict[str, Any]) -> str:
        inputs = template(action["inputs"], self.functions())
        policy = inputs.get("retryPolicy", {"type": "exponential", "count": 4, "interval": "PT7S"})
        tries = 1 + (int(policy.get("count", 4)) if policy.get("type") in ("exponential", "fixed") else 0)
        for attempt in range(tries):
            answer = self.call(name, inputs)
            with self._lock:
                self.outputs[name] = answer
            code = int(answer.get("statusCode", 0))
            if code < 400:
                return "Succeeded"
            if attempt + 1 < tries and (code in (0, 408, 429) or code >= 500):
                with self._lock:
                    self.waited += iso_seconds(policy.get("interval", "PT7S")) * 2**attempt
                continue
            break
        body = answer.get("body")
        detail = body.get("message", body) if isinstance(body, dict) else body
        return self._set(name, "Failed", f"HTTP {answer.get('statusCode')}: {detail}")
