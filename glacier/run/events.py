"""Run events: what a progress bar, a log or a widget subscribes to."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RunEvent", "EventBus", "subscribe", "EVENT_KINDS", "STATUS_OF_EVENT"]

EVENT_KINDS = (
    "run_started",
    "task_started",
    "task_retried",
    "task_planned",
    "task_finished",
    "task_cached",
    "task_failed",
    "task_skipped",
    "collect_started",
    "run_finished",
    "run_failed",
)

#: The task status each task event leaves its node in (for live displays).
STATUS_OF_EVENT = {
    "task_started": "running",
    "task_retried": "running",
    "task_planned": "planned",
    "task_finished": "done",
    "task_cached": "cached",
    "task_failed": "failed",
    "task_skipped": "skipped",
}


@dataclass(frozen=True, slots=True)
class RunEvent:
    """One thing that happened during a run. ``node`` is ``None`` for run-level events."""

    kind: str
    run_id: str
    pipeline: str
    node: str | None = None
    executor: str | None = None
    time: float = field(default_factory=time.time)
    duration: float | None = None
    rows: int | None = None
    attempt: int = 0
    error: str | None = None
    nodes: tuple[str, ...] = ()
    #: For a task computed in the run's collection: its share of it (seconds) and a note
    #: when its figures are not its own ("fused into clean").
    compute: float | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}  # type: ignore[attr-defined]


Callback = Callable[[RunEvent], None]


class EventBus:
    """A list of subscribers; a failing subscriber never breaks a run."""

    def __init__(self) -> None:
        self._subscribers: list[Callback] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        """Call ``callback(event)`` for every event; returns a function that unsubscribes."""
        with self._lock:
            self._subscribers = [*self._subscribers, callback]

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = [s for s in self._subscribers if s is not callback]

        return unsubscribe

    def __bool__(self) -> bool:
        return bool(self._subscribers)

    def emit(self, event: RunEvent) -> None:
        for callback in self._subscribers:
            try:
                callback(event)
            except Exception:
                import logging

                logging.getLogger("glacier").exception("event subscriber %r failed", callback)


#: Events of every run in this process.
GLOBAL_BUS = EventBus()


def subscribe(callback: Callback) -> Callable[[], None]:
    """Subscribe to the events of every pipeline run in this process."""
    return GLOBAL_BUS.subscribe(callback)
