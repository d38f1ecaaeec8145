"""Run records: what happened to every task of one run.

A task that returns a ``pl.LazyFrame`` (or writes one) only *plans* its work when it is
called: its status is ``planned`` until the run's collection computes that plan. Its
``compute`` time and ``rows`` then come from the collection's per-node metrics (its own
part of the fused plan); where its part was merged into another task's, ``note`` says so
(``fused into clean``) and the figure is left empty rather than shown as zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from glacier.display.protocol import Displayable

__all__ = ["TaskRun", "RunRecord", "STATUSES"]

STATUSES = ("pending", "running", "planned", "done", "cached", "failed", "skipped")


@dataclass(slots=True)
class TaskRun:
    """One node's part of a run."""

    node: str
    task: str
    executor: str
    status: str = "pending"
    start: float | None = None
    end: float | None = None
    rows: int | None = None
    attempts: int = 0
    cached: bool = False
    error: str | None = None
    lazy: bool = False
    #: Seconds of the run's collection spent on this task's part of the plan (its share of
    #: the collection's wall time), when known; ``compute_start`` is when that collection began.
    compute: float | None = None
    compute_start: float | None = None
    #: What the figures mean when they are not the task's own ("fused into clean").
    note: str | None = None

    @property
    def duration(self) -> float | None:
        """Seconds spent in the task's call (building its plan, for a lazy task)."""
        if self.start is None or self.end is None:
            return None
        return self.end - self.start

    def compute_text(self) -> str:
        """The compute figure as shown everywhere: a time, or what is known instead."""
        if self.compute is not None:
            return _ms(self.compute)
        if self.status == "planned":
            return "planned"
        if self.cached:
            return "cached"
        if self.note is not None and self.status == "done":
            return "in fused plan"
        return "-"

    def call_text(self) -> str:
        """The call's time (for a lazy task: building its plan)."""
        return "-" if self.duration is None else _ms(self.duration)

    def rows_text(self) -> str:
        return "-" if self.rows is None else f"{self.rows:,} rows"

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "task": self.task,
            "executor": self.executor,
            "status": self.status,
            "start": self.start,
            "end": self.end,
            "duration": self.duration,
            "rows": self.rows,
            "attempts": self.attempts,
            "cached": self.cached,
            "error": self.error,
            "compute": self.compute,
            "compute_start": self.compute_start,
            "note": self.note,
        }


def _ms(seconds: float) -> str:
    """A measured time; under 0.1 ms it says so rather than rounding to a misleading 0.0 ms."""
    from glacier.display._html import fmt_seconds

    return "<0.1 ms" if seconds < 0.0001 else fmt_seconds(seconds)


@dataclass
class RunRecord(Displayable):
    """The record of one pipeline run (``pipeline.last_run``)."""

    run_id: str
    pipeline: str
    mode: str
    params: dict[str, Any] = field(default_factory=dict)
    status: str = "running"
    start: float | None = None
    end: float | None = None
    tasks: dict[str, TaskRun] = field(default_factory=dict)
    error: str | None = None

    @property
    def duration(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return self.end - self.start

    def by_status(self, status: str) -> list[str]:
        return [t.node for t in self.tasks.values() if t.status == status]

    @property
    def failed(self) -> list[str]:
        return self.by_status("failed")

    @property
    def skipped(self) -> list[str]:
        return self.by_status("skipped")

    @property
    def cache_hits(self) -> list[str]:
        return [t.node for t in self.tasks.values() if t.cached]

    def __getitem__(self, node: str) -> TaskRun:
        return self.tasks[node]

    def to_dicts(self) -> list[dict[str, Any]]:
        return [t.to_dict() for t in self.tasks.values()]

    def to_polars(self) -> Any:
        """The per-task table as a ``pl.DataFrame``."""
        import polars as pl

        return pl.DataFrame(
            self.to_dicts(),
            schema={
                "node": pl.String,
                "task": pl.String,
                "executor": pl.String,
                "status": pl.String,
                "start": pl.Float64,
                "end": pl.Float64,
                "duration": pl.Float64,
                "rows": pl.Int64,
                "attempts": pl.Int64,
                "cached": pl.Boolean,
                "error": pl.String,
                "compute": pl.Float64,
                "compute_start": pl.Float64,
                "note": pl.String,
            },
        )

    def summary(self) -> str:
        """A plain-text table: one line per task (call time, compute time, rows, notes)."""
        lines = [
            f"run {self.run_id} of {self.pipeline!r} ({self.mode}): {self.status}"
            + (f" in {self.duration:.3f}s" if self.duration is not None else "")
        ]
        width = max((len(n) for n in self.tasks), default=4)
        lines.append(f"  {'task':<{width}}  {'status':<8} {'call':>10} {'compute':>13} {'rows out':>15}")
        for t in self.tasks.values():
            notes = [n for n in (t.note, t.error) if n]
            extra = f"  {'; '.join(notes)}" if notes else ""
            lines.append(
                f"  {t.node:<{width}}  {t.status:<8} {t.call_text():>10} {t.compute_text():>13} {t.rows_text():>15}{extra}"
            )
        return "\n".join(lines)

    def _bundle_(self) -> dict[str, Any]:
        from glacier.display.runs import run_bundle

        return run_bundle(self)

    def __repr__(self) -> str:
        counts: dict[str, int] = {}
        for t in self.tasks.values():
            counts[t.status] = counts.get(t.status, 0) + 1
        parts = ", ".join(f"{n} {s}" for s, n in counts.items())
        return f"RunRecord({self.pipeline!r}, {self.status}, {parts})"
