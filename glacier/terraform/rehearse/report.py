"""The rehearsal's verdict: one row per task, outputs compared with ``run(mode="local")``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

__all__ = ["TaskResult", "Rehearsal", "frames_equal"]


@dataclass
class TaskResult:
    """One task as the rehearsal ran it."""

    task: str
    where: str
    status: str = "not run"
    attempts: int = 0
    rows: int | None = None
    local_rows: int | None = None
    identity: str = ""
    error: str | None = None
    matches: bool | None = None


@dataclass
class Rehearsal:
    """The result of ``glacier rehearse``: ``passed``, the per-task table, and why it failed."""

    pipeline: str
    cloud: str
    tasks: list[TaskResult] = field(default_factory=list)
    outputs: list[tuple[str, bool, str]] = field(default_factory=list)  # (what, equal, detail)
    failure: str | None = None
    evaluated_by: str = ""
    seconds: float = 0.0
    apply_seconds: float = 0.0
    local_seconds: float = 0.0
    waited: float = 0.0

    @property
    def passed(self) -> bool:
        return self.failure is None

    def table(self) -> str:
        head = ("task", "runs on", "status", "tries", "rows", "local rows", "identity")
        rows = [
            (
                t.task,
                t.where,
                t.status,
                str(t.attempts),
                "-" if t.rows is None else str(t.rows),
                "-" if t.local_rows is None else str(t.local_rows),
                t.identity,
            )
            for t in self.tasks
        ]
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [head, *rows]
        ]
        for t in self.tasks:
            if t.error:
                lines.append(f"  {t.task}: {t.error}")
        for what, equal, detail in self.outputs:
            lines.append(f"output {what}: {'equal to run(mode=local)' if equal else 'DIFFERS: ' + detail}")
        lines.append(
            f"definition rendered by {self.evaluated_by}; data plane applied in {self.apply_seconds:.1f} s, "
            f"states executed in {self.seconds:.1f} s (local run {self.local_seconds:.2f} s); "
            f"waits counted, not slept: {self.waited:.0f} s"
        )
        lines.append("rehearsal passed" if self.passed else f"rehearsal failed: {self.failure}")
        return "\n".join(lines)


def _frame(value: Any) -> pl.DataFrame | None:
    if isinstance(value, pl.LazyFrame):
        return value.collect()
    return value if isinstance(value, pl.DataFrame) else None


def frames_equal(left: Any, right: Any) -> tuple[bool, str]:
    """Equal data, whatever the row order (a deployed task may order rows differently)."""
    a, b = _frame(left), _frame(right)
    if a is None or b is None:
        return (left == right), f"{left!r} != {right!r}"
    if a.schema != b.schema:
        return False, f"schema {dict(a.schema)} != {dict(b.schema)}"
    if a.height != b.height:
        return False, f"{a.height} rows != {b.height} rows"
    try:
        equal = a.sort(a.columns, nulls_last=True).equals(b.sort(b.columns, nulls_last=True))
    except Exception:  # unsortable columns (lists, structs): compare in order
        equal = a.equals(b)
    return equal, "" if equal else "values differ"
