"""``DagWidget``: a pipeline's DAG in the notebook, with previews and live run status."""

from __future__ import annotations

import threading
import time
import uuid
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import anywidget
import traitlets

from glacier_jupyter.history import history_payload
from glacier_jupyter.widgets.payload import apply_event, dag_payload, record_statuses
from glacier_jupyter.widgets.preview import preview_payload

if TYPE_CHECKING:
    from glacier.pipelines import Pipeline
    from glacier.run.events import RunEvent
    from glacier.run.record import RunRecord

__all__ = ["DagWidget"]

_STATIC = Path(__file__).parent / "static"
_LAST = object()  # "the pipeline's last run"
# the newest widget of each pipeline (by id): the one that follows its runs
_NEWEST: weakref.WeakValueDictionary[int, DagWidget] = weakref.WeakValueDictionary()


class DagWidget(anywidget.AnyWidget):
    """Interactive DAG of ``pipeline``: tasks and buckets left to right, coloured by
    executor; hover, pan/zoom, search, collapse by executor, SVG export; click a node
    for its preview; live status of the pipeline's runs, then a timeline; its last runs
    side by side.

    An output keeps the run it showed: only the newest widget of a pipeline follows its
    runs, and a widget made for one run (``follow="next"``, what ``%glacier run`` shows)
    stops when that run ends.

    Parameters
    ----------
    pipeline : Pipeline
        A ``@pipeline(name=...)``.
    interval : float
        Least seconds between two status pushes to the browser during a run.
    record : RunRecord or None
        The run shown at first (default: ``pipeline.last_run``; ``None``: no run yet).
    follow : {"runs", "next", "none"}
        ``runs``: every run until a newer widget of the pipeline is made; ``next``: the
        next run only; ``none``: no run.

    Examples
    --------
    >>> from glacier_jupyter.widgets import DagWidget  # doctest: +SKIP
    >>> DagWidget(etl)  # doctest: +SKIP
    """

    _esm = _STATIC / "dag.js"
    _css = _STATIC / "widgets.css"

    graph = traitlets.Dict().tag(sync=True)
    statuses = traitlets.Dict().tag(sync=True)
    run = traitlets.Dict().tag(sync=True)
    preview = traitlets.Dict().tag(sync=True)
    preview_rows = traitlets.Int(10).tag(sync=True)
    uid = traitlets.Unicode().tag(sync=True)  # names the picture saved with the notebook
    history = traitlets.List().tag(sync=True)  # the pipeline's last runs (glacier_jupyter.history)

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        interval: float = 0.1,
        record: RunRecord | Any | None = _LAST,
        follow: Literal["runs", "next", "none"] = "runs",
        **kwargs: Any,
    ) -> None:
        if follow not in ("runs", "next", "none"):
            raise ValueError(f"follow={follow!r}: use 'runs', 'next' or 'none'")
        graph = pipeline.graph
        if record is _LAST:
            record = pipeline.last_run
        run = {}
        if record is not None:
            run = {"id": record.run_id, "state": record.status, "start": record.start, "end": record.end}
            if record.error:
                run["error"] = record.error.splitlines()[0]
        super().__init__(
            graph=dag_payload(graph),
            statuses=record_statuses(record),
            run=run,
            uid=uuid.uuid4().hex,
            history=history_payload(pipeline),
            **kwargs,
        )
        self.pipeline = pipeline
        self.interval = interval
        self.follow = follow
        self._lock = threading.Lock()
        self._pending: dict[str, Any] = dict(self.statuses)
        self._run: dict[str, Any] = dict(run)
        self._last_push = 0.0
        self._timer: threading.Timer | None = None
        self._unsubscribe: Any = None
        previous = _NEWEST.get(id(pipeline))
        if previous is not None and previous is not self:
            previous.stop_following()
        if follow != "none":
            _NEWEST[id(pipeline)] = self
            self._unsubscribe = pipeline.subscribe(self.on_event)
        self.on_msg(self._on_msg)

    @property
    def following(self) -> bool:
        """Whether this widget still follows the pipeline's runs."""
        return self._unsubscribe is not None

    def stop_following(self) -> None:
        """Keep what is shown; later runs of the pipeline no longer change this widget."""
        lock = getattr(self, "_lock", None)
        if lock is None:  # closed before __init__ finished
            return
        with lock:
            unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()
        if _NEWEST.get(id(self.pipeline)) is self:
            del _NEWEST[id(self.pipeline)]

    def fail(self, message: str) -> None:
        """Show a run that failed before any task started (``message``: one line)."""
        with self._lock:
            self._run = {**self._run, "state": "failed", "error": message, "end": time.time()}
        self.flush()
        self.stop_following()

    # -- run status --------------------------------------------------------------------
    def on_event(self, event: RunEvent) -> None:
        """Fold one run event into the status; push at most every ``interval`` seconds,
        and at once when the run ends."""
        with self._lock:
            if event.kind == "run_started":
                self._run = {"id": event.run_id, "state": "running", "start": event.time, "end": None}
            elif event.kind in ("run_finished", "run_failed"):
                self._run = {
                    **self._run,
                    "state": "done" if event.kind == "run_finished" else "failed",
                    "end": event.time,
                }
                if event.error:
                    self._run["error"] = event.error
            apply_event(self._pending, event)
            record = self.pipeline.last_run
            if event.kind in ("run_finished", "run_failed") and record and record.run_id == event.run_id:
                self._pending = dict(record_statuses(record))  # the record's figures, exactly
            final = event.kind in ("run_started", "run_finished", "run_failed")
            ended = event.kind in ("run_finished", "run_failed")
            due = final or time.monotonic() - self._last_push >= self.interval
            if not due and self._timer is None:
                self._timer = threading.Timer(self.interval, self.flush)
                self._timer.daemon = True
                self._timer.start()
        if due:
            self.flush()
        if ended:
            self.history = history_payload(self.pipeline)
        if ended and self.follow == "next":
            self.stop_following()

    def flush(self) -> None:
        """Send the current statuses to the browser."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            statuses = {k: dict(v) for k, v in self._pending.items()}
            run = dict(self._run)
            self._last_push = time.monotonic()
        with self.hold_sync():
            self.statuses = statuses
            self.run = run

    # -- messages from the browser -------------------------------------------------------
    def handle_message(self, content: dict[str, Any]) -> dict[str, Any] | None:
        """Answer one message from the browser: ``{"type": "preview", "node": ID, "n": 10}``
        sets (and returns) ``preview``. Unknown messages are ignored."""
        if not isinstance(content, dict) or content.get("type") != "preview":
            return None
        node = str(content.get("node", ""))
        n = content.get("n", self.preview_rows)
        n = n if isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= 1000 else self.preview_rows
        self.preview = {"node": node, "loading": True}
        self.preview = preview_payload(self.pipeline, node, n)
        return self.preview

    def _on_msg(self, widget: Any, content: Any, buffers: Any) -> None:
        self.handle_message(content)

    def close(self) -> None:
        """Stop following the pipeline's runs and close the widget."""
        self.stop_following()
        with getattr(self, "_lock", threading.Lock()):
            if getattr(self, "_timer", None) is not None:
                self._timer.cancel()
                self._timer = None
        super().close()

    def __repr__(self) -> str:
        g = self.graph
        kinds = [row[2] for row in g.get("nodes", [])]
        return f"DagWidget({g.get('name')!r}, {kinds.count('task')} tasks, {kinds.count('bucket')} buckets)"
