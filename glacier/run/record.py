"""Run records: what happened to every task of one run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from glacier.display.protocol import Displayable

__all__ = ["TaskRun", "RunRecord", "STATUSES"]

STATUSES = ("pending", "running", "done", "cached", "failed", "skipped")


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

    @property
    def duration(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return self.end - self.start

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
        }


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
            },
        )

    def summary(self) -> str:
        """A plain-text table: one line per task."""
        lines = [
            f"run {self.run_id} of {self.pipeline!r} ({self.mode}): {self.status}"
            + (f" in {self.duration:.3f}s" if self.duration is not None else "")
        ]
        width = max((len(n) for n in self.tasks), default=4)
        for t in self.tasks.values():
            dur = f"{t.duration * 1000:9.1f} ms" if t.duration is not None else "        - ms"
            rows = f"{t.rows:>10,}" if t.rows is not None else "         -"
            extra = " (cached)" if t.cached else ""
            err = f"  {t.error}" if t.error else ""
            lines.append(f"  {t.node:<{width}}  {t.status:<7} {dur} {rows} rows{extra}{err}")
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
