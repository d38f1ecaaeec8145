"""Lineage of a deployed task: one invocation of the generated ``glacier_handler.py``.

The cloud's orchestrator (Step Functions, Workflows, a Logic App) runs each task as its own
invocation, so no Glacier process sees the whole execution: each task sends its own START and
COMPLETE (or FAIL), and its ``parent`` facet names the orchestrator's execution as the
pipeline run - a run id derived from the execution id the orchestrator passes (``run``), the
same in every task of one execution. The pipeline job itself gets no events of its own.
Outputs of upstream tasks arrive as scans of the staging area; they are named as those
tasks' datasets, as in a local run.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import polars as pl

from glacier.lineage.config import configured

if TYPE_CHECKING:
    from glacier.graph import Graph

__all__ = ["task_lineage", "execution_run_id", "TaskLineage"]


def execution_run_id(namespace: str, pipeline: str, execution: str) -> str:
    """The pipeline run id of one orchestrator execution (the same in all its tasks)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"glacier:{namespace}:{pipeline}:{execution}"))


class TaskLineage:
    """Events of one deployed task; :meth:`output` is called with what the task returned."""

    def __init__(self, graph: Graph, node: str, execution: str, values: dict[str, Any]) -> None:
        from glacier.lineage.observer import RunLineage
        from glacier.run.record import RunRecord, TaskRun

        spec = graph[node]
        self.node = node
        self.values = values
        self.record = RunRecord(execution, graph.name, "deployed")
        self.record.tasks[node] = TaskRun(node, spec.task.name, spec.task.executor.name)
        self.run = RunLineage(graph, self.record, lambda: values)
        self.run.run_id = execution_run_id(self.run.namespace, graph.name, execution)

    def _event(self, kind: str, **fields: Any) -> None:
        from glacier.run.events import RunEvent

        self.run(RunEvent(kind, self.record.run_id, self.record.pipeline, self.node, **fields))

    def started(self) -> None:
        task = self.record.tasks[self.node]
        task.status, task.start, task.attempts = "running", time.time(), 1
        self._event("task_started", time=task.start)

    def output(self, value: Any) -> None:
        """What the task returned (its ``LazyFrame``, then the collected ``DataFrame``)."""
        task = self.record.tasks[self.node]
        task.end, task.status = time.time(), "done"
        if isinstance(value, pl.DataFrame):
            task.rows = value.height
        self.values[self.node] = value
        self._event("task_finished", time=task.end, rows=task.rows)

    def failed(self, exc: BaseException) -> None:
        from glacier.run.scheduler import describe_error

        task = self.record.tasks[self.node]
        task.end, task.status, task.error = time.time(), "failed", describe_error(exc)
        self._event("task_failed", time=task.end, error=task.error)

    def done(self) -> None:
        """The task's events are sent (or dropped) before the invocation returns."""
        from glacier.lineage.sender import flush

        self.run.stop_watching()
        self.run.complete_pending()
        flush(timeout=30)


class _Off:
    def output(self, value: Any) -> None:
        return None


@contextmanager
def task_lineage(graph: Graph, node: str, execution: str, values: dict[str, Any]) -> Iterator[Any]:
    """Around one deployed task call: sends its events when OpenLineage is configured.

    ``values`` maps the upstream node ids to their outputs (scans of the staging area).
    """
    if not configured():
        yield _Off()
        return
    if not _client_installed():
        yield _Off()
        return
    lineage = TaskLineage(graph, node, execution, values)
    lineage.run.start_watching()
    lineage.started()
    try:
        yield lineage
    except BaseException as exc:
        lineage.failed(exc)
        raise
    finally:
        lineage.done()


def _client_installed() -> bool:
    import importlib.util

    if importlib.util.find_spec("openlineage.client") is not None:
        return True
    from glacier.lineage import _MISSING
    from glacier.lineage.sender import warn_once

    warn_once("missing-client", _MISSING)
    return False
