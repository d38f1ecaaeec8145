"""Running pipelines: runners, run records and run events."""

from __future__ import annotations

from glacier.run.events import RunEvent, subscribe
from glacier.run.record import RunRecord, TaskRun

__all__ = ["RunEvent", "RunRecord", "TaskRun", "subscribe"]
