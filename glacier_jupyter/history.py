"""Run history: the last runs of each pipeline, side by side (status, duration and rows of
every task), as a table and in the DAG widget's *runs* tab.

The core keeps one run per pipeline (``pipeline.last_run``); with the extension loaded
(``%load_ext glacier``) every run that ends is also kept here, the last ``KEEP`` per
pipeline, for as long as the pipeline lives.
"""

from __future__ import annotations

import threading
import weakref
from collections import deque
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

    from glacier.pipelines import Pipeline
    from glacier.run.events import RunEvent
    from glacier.run.record import RunRecord

__all__ = ["KEEP", "history_payload", "remember", "run_history", "runs_of", "start", "stop"]

KEEP = 10
_RUNS: weakref.WeakKeyDictionary[Pipeline, deque[RunRecord]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()
_STOP: list[Any] = []


def remember(pipeline: Pipeline, record: RunRecord | None) -> None:
    """Keep ``record`` (a run of ``pipeline`` that ended) in the pipeline's history."""
    if record is None or record.status not in ("done", "failed", "cancelled"):
        return
    with _LOCK:
        runs = _RUNS.setdefault(pipeline, deque(maxlen=KEEP))
        if all(r.run_id != record.run_id for r in runs):
            runs.append(record)


def _on_event(event: RunEvent) -> None:
    if event.kind not in ("run_finished", "run_failed"):
        return
    from glacier.pipelines import defined_pipelines

    for pipeline in defined_pipelines():
        record = pipeline.last_run
        if pipeline.name == event.pipeline and record is not None and record.run_id == event.run_id:
            remember(pipeline, record)
            return


def start() -> None:
    """Keep the runs of every pipeline from now on (the extension calls it when loaded)."""
    from glacier.run.events import subscribe

    if not _STOP:
        _STOP.append(subscribe(_on_event))


def stop() -> None:
    """Stop keeping runs (the extension calls it when unloaded); what is kept stays."""
    while _STOP:
        _STOP.pop()()


def runs_of(pipeline: Pipeline, n: int = KEEP) -> list[RunRecord]:
    """The last ``n`` runs of ``pipeline``, oldest first (its ``last_run`` included)."""
    remember(pipeline, pipeline.last_run)
    with _LOCK:
        runs = list(_RUNS.get(pipeline, ()))
    return runs[-n:] if n > 0 else []


def _cell(task: Any) -> str:
    """``done · 3.1 ms · 42 rows``: the status, the compute time where the run's collection
    measured it (else the call's), the rows; the same figures as the run record's."""
    bits = [task.status]
    if task.compute is not None:
        bits.append(task.compute_text())
    elif task.status in ("done", "failed") and task.duration is not None:
        bits.append(task.call_text())
    if task.rows is not None:
        bits.append(task.rows_text())
    return " · ".join(bits)


def run_history(pipeline: Pipeline, n: int = 5) -> pl.DataFrame:
    """The last ``n`` runs side by side: one row per task, one column per run (oldest
    first) holding its status, duration and rows, e.g. ``done · 3.1 ms · 42 rows``."""
    import polars as pl

    from glacier.display._html import fmt_seconds

    runs = runs_of(pipeline, n)
    tasks: list[str] = []
    for record in runs:
        tasks += [node for node in record.tasks if node not in tasks]
    columns: dict[str, list[str]] = {"task": tasks}
    for record in runs:
        head = f"{record.run_id[:6]} {record.status} {fmt_seconds(record.duration)}"
        columns[head] = [_cell(record.tasks[t]) if t in record.tasks else "" for t in tasks]
    return pl.DataFrame(columns, schema={name: pl.String for name in columns})


def history_payload(pipeline: Pipeline, n: int = 5) -> list[dict[str, Any]]:
    """The widget's ``history`` trait: the last ``n`` runs, oldest first, as
    ``{id, state, start, duration, tasks: {node: {s, d, c, r}}}`` (call, compute, rows)."""
    out = []
    for record in runs_of(pipeline, n):
        tasks = {}
        for node, task in record.tasks.items():
            entry: dict[str, Any] = {"s": task.status}
            if task.duration is not None:
                entry["d"] = round(task.duration, 6)
            if task.compute is not None:
                entry["c"] = round(task.compute, 6)
            if task.rows is not None:
                entry["r"] = task.rows
            tasks[node] = entry
        out.append(
            {
                "id": record.run_id,
                "state": record.status,
                "start": record.start,
                "duration": record.duration,
                "tasks": tasks,
            }
        )
    return out
