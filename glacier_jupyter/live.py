"""Live run status for ``%glacier run`` without widgets: one display (the DAG outlined
by each task's status, plus counts) updated as run events arrive, replaced by the
run record when the run ends."""

from __future__ import annotations

import threading
import time
from typing import Any

from glacier.display._html import CSS, STATUS_COLORS, esc
from glacier.display.dag import dag_svg, layout
from glacier.run.events import STATUS_OF_EVENT, RunEvent

__all__ = ["LiveStatus"]

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
            f"<div style='overflow:auto;max-height:640px'>{svg}</div></div>"
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
