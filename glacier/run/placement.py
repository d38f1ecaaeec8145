"""Placements: *where* one task runs (this process, an emulated function process, Dask).

The scheduler (:mod:`glacier.run.scheduler`) owns everything else of a run: the record,
the events, failure isolation and collection. It hands each task call to the first
placement that accepts the task's executor, or to :class:`InProcess`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from glacier.graph import Graph, Node
    from glacier.resources.executor import Executor
    from glacier.run.record import RunRecord

__all__ = ["Placement", "InProcess", "Call", "RunControl", "placements_for"]


class RunControl(Protocol):
    """What the scheduler offers a placement during one call."""

    def retried(self, node: Node, attempt: int, exc: BaseException) -> None:
        """Record that ``node`` failed and will be tried again (``attempt`` is 1-based)."""

    def pause(self, seconds: float) -> None:
        """Wait between attempts; raises ``TaskCancelledError`` once the run is stopped."""


@dataclass(slots=True)
class Call:
    """One task call handed to a placement: the node and its resolved arguments."""

    node: Node
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    run: RunControl

    def on_retry(self, attempt: int, exc: BaseException) -> None:
        self.run.retried(self.node, attempt, exc)


class Placement(ABC):
    """Where a task runs: :meth:`submit` starts a call, :meth:`result` waits for its value,
    :meth:`close` stops outstanding calls and releases what the placement holds."""

    #: What the run record says about a call that was running when the run was interrupted.
    stop_note = "its call was stopped"

    def accepts(self, executor: Executor) -> bool:
        """Whether tasks bound to ``executor`` run here."""
        return True

    def open(self, graph: Graph, record: RunRecord) -> None:
        """Prepare for a run (connect to clusters) before its first task starts."""
        return None

    @abstractmethod
    def submit(self, call: Call) -> Any:
        """Start ``call``; returns a handle for :meth:`result`."""

    @abstractmethod
    def result(self, handle: Any) -> Any:
        """Wait for the call's value (raises the call's error)."""

    def close(self) -> None:
        """Stop outstanding calls and release resources (at the end of a run and on Ctrl-C)."""
        return None


class InProcess(Placement):
    """The task's function called in this process (with its retries and ``timeout=``)."""

    stop_note = (
        "Python cannot stop a running thread, so the call may still finish in the background "
        "(its result is dropped)"
    )

    def submit(self, call: Call) -> Call:
        return call

    def result(self, handle: Call) -> Any:
        return self.run(handle.node, handle.args, handle.kwargs, handle.run)

    def run(self, node: Node, args: tuple[Any, ...], kwargs: dict[str, Any], control: RunControl) -> Any:
        """Call the task right here (the scheduler's fast path: no hand-off, no handle)."""
        task = node.task
        on_retry = None if not task.retries else lambda attempt, exc: control.retried(node, attempt, exc)
        if task.timeout is None:
            return task.call(args, kwargs, on_retry=on_retry, pause=control.pause)
        from glacier.run.timeouts import call_with_timeout

        return call_with_timeout(
            node.id, lambda: task.call(args, kwargs, on_retry=on_retry, pause=control.pause), task.timeout
        )


def placements_for(mode: str, emulate: bool) -> list[Placement]:
    """The placements of a run mode, before the in-process fallback."""
    if mode == "distributed":
        from glacier.run.dask_placement import DaskPlacement

        return [DaskPlacement()]
    if emulate:
        from glacier.run.emulate import EmulatedProcess

        return [EmulatedProcess()]
    return []
