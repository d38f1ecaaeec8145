"""Live run status for ``%glacier run`` without widgets: one display (the DAG outlined
by each task's status, plus counts) updated as run events arrive, replaced by the
run record when the run ends."""

from __future__ import annotations

import threading
import time
from typing import Any

from glacier.display._html import CSS, STATUS_COLORS, esc, svg_img
from glacier.display.dag import dag_svg, layout
from glacier.run.events import STATUS_OF_EVENT, RunEvent

__all__ = ["LiveStatus", "RunDisplay", "value_is_shown"]

_STATUS_OF = STATUS_OF_EVENT


class LiveStatus:
    """An ``on_event`` callback that keeps a display handle up to date.

    Parameters
    ----------
    graph : Graph
        The traced graph being run.
    interval : float
        Seconds between two redraws while tasks are running (the last state is always drawn).
    """

    def __init__(self, graph: Any, *, interval: float = 0.2) -> None:
        from IPython.display import display

        self.graph = graph
        self.layout = layout(graph)
        self.statuses = {nid: "pending" for nid in graph.nodes}
        self.interval = interval
        self._last = 0.0
        self._lock = threading.Lock()
        self.started = time.time()
        self.handle = display(self.bundle(), raw=True, display_id=True)

    def bundle(self, note: str = "running") -> dict[str, Any]:
        counts: dict[str, int] = {}
        for status in self.statuses.values():
            counts[status] = counts.get(status, 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in counts.items())
        elapsed = time.time() - self.started
        head = f"{self.graph.name}: {note} ({summary}) {elapsed:.1f} s"
        tags = "".join(
            f"<span class='tag' style='background:{STATUS_COLORS[s]}'>{esc(s)} {n}</span> "
            for s, n in counts.items()
        )
        svg = dag_svg(self.graph, statuses=self.statuses, lay=self.layout)
        html = (
            f"{CSS}<div class='glacier'><h4>{esc(self.graph.name)}: {esc(note)} "
            f"<span class='muted'>{elapsed:.1f} s</span></h4>{tags}"
            f"<div style='overflow:auto;max-height:640px'>{svg_img(svg, f'DAG of {self.graph.name}')}</div></div>"
        )
        return {"text/plain": head, "text/html": html}

    def __call__(self, event: RunEvent) -> None:
        status = _STATUS_OF.get(event.kind)
        if status is None or event.node is None:
            return
        with self._lock:
            self.statuses[event.node] = status
            now = time.monotonic()
            if now - self._last < self.interval:
                return
            self._last = now
            self.handle.update(self.bundle(), raw=True)

    def finish(self, record: Any) -> None:
        """Draw the final statuses and the run record (table and timeline)."""
        from glacier.display import mimebundle

        with self._lock:
            if record is not None:
                for nid, task in record.tasks.items():
                    if nid in self.statuses:
                        self.statuses[nid] = task.status
                run = mimebundle(record)
                picture = self.bundle(record.status)
                self.handle.update(
                    {"text/plain": run["text/plain"], "text/html": picture["text/html"] + run["text/html"]},
                    raw=True,
                )
            else:
                self.handle.update(self.bundle("stopped"), raw=True)


class RunDisplay:
    """What ``%glacier run`` shows: a DAG widget made for this run (it follows the run,
    then keeps it), with the static DAG picture beside it for frontends without widgets;
    where widgets are unavailable, a :class:`LiveStatus`.

    Parameters
    ----------
    pipeline : Pipeline
        The pipeline about to run.
    graph : Graph
        Its traced graph (with this run's parameters).
    """

    def __init__(self, pipeline: Any, graph: Any) -> None:
        from IPython.display import display

        from glacier_jupyter.bridge import widget_classes

        self.pipeline = pipeline
        self.graph = graph
        self.widget: Any = None
        self.live: LiveStatus | None = None
        classes = widget_classes()
        if classes is not None:
            try:
                self.widget = classes[0](pipeline, record=None, follow="next")
            except Exception:  # a widget that cannot be built: the live picture still works
                self.widget = None
        if self.widget is None:
            self.live = LiveStatus(graph)
            self.handle = self.live.handle
        else:
            self.handle = display(self._bundle(None), raw=True, display_id=True)

    @property
    def on_event(self) -> LiveStatus | None:
        """The ``on_event`` callback for the run (the widget subscribes by itself)."""
        return self.live

    def _bundle(self, record: Any) -> dict[str, Any]:
        from glacier.display.dag import graph_bundle

        static = graph_bundle(
            self.graph, title=repr(self.pipeline), description=self.pipeline.description, record=record
        )
        view = self.widget._repr_mimebundle_()
        if isinstance(view, tuple):
            view = view[0]
        return {**static, **(view or {}), "text/plain": static["text/plain"]}

    def finish(self, record: Any) -> None:
        """The run ended (``record``: its run record): the widget shows its final statuses.

        The static picture beside the widget stays the DAG as traced: a notebook's outputs
        only grow while a cell runs, so nbval compares what a frontend saved."""
        if self.live is not None:
            self.live.finish(record)
            return
        self.widget.flush()

    def fail(self, message: str) -> None:
        """The run failed before any task started: say so instead of a previous run's state."""
        if self.live is not None:
            self.live.finish(None)
            return
        self.widget.fail(message)


def value_is_shown(magic: str) -> bool:
    """Whether the cell running now ends with a bare ``%glacier MAGIC ...`` line, whose value
    IPython displays (a run's result is then shown as its table, not as a query plan)."""
    from glacier_jupyter.formatters import current_cell

    lines = [line.strip() for line in current_cell().splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    if not lines or lines[-1].endswith(";"):
        return False
    words = lines[-1].split()
    return len(words) >= 2 and words[0] == "%glacier" and words[1] == magic
