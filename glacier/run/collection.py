"""The run's collection: every plan the run needs, computed once, with honest figures.

At the end of a run the lazy outputs it needs (returned ones, graph leaves) and the
lazy writes its tasks deferred (:mod:`glacier.storage.deferred`) are computed
together in one ``pl.collect_all``, so a frame that is both written and returned is
computed once. The writes are published only when that collection succeeds.

Each planned task that the collection computed becomes ``done`` with the rows and
the compute time of its own part of the fused plan (:mod:`glacier.run.plan_metrics`).
When the collection fails, every staged write is dropped (old objects stay) and each
output and write is computed on its own, so that healthy branches still finish and
the failing task is found; tasks whose plans never ran stay unfinished.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

import polars as pl

from glacier.run import plan_metrics
from glacier.storage.deferred import PendingWrite, finish

if TYPE_CHECKING:
    from glacier.run.scheduler import Scheduler

__all__ = ["Collection", "METRICS_ENV"]

#: ``GLACIER_PLAN_METRICS=0`` turns per-task figures from polars' node metrics off.
METRICS_ENV = "GLACIER_PLAN_METRICS"


class Collection:
    """Collects for one scheduler; see the module docstring."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.s = scheduler
        self.metrics = os.environ.get(METRICS_ENV, "1").lower() not in ("0", "false", "no", "off")

    # -- the end of a run -----------------------------------------------------------------
    def run(self, roots: list[str]) -> None:
        """Compute ``roots`` (node ids with lazy values) and every pending write together."""
        s = self.s
        writes = s.writes.take()
        if not roots and not writes:
            return
        owners = [w.node for w in writes] + list(roots)
        s.emit("collect_started", None, nodes=tuple(dict.fromkeys(n for n in owners if n is not None)))
        frames: list[Any] = [w.sink for w in writes] + [s.values[n] for n in roots]
        kept = self._cache_files(roots)
        frames += [s.values[nid].sink_ipc(path, lazy=True) for nid, path in kept.items()]
        owners += list(kept)
        start = time.time()
        try:
            out, metrics = plan_metrics.collect_all(frames, metrics=self.metrics)
        except Exception as exc:
            finish(writes, exc)  # every staged write is dropped: the old objects stay
            for path in kept.values():
                path.unlink(missing_ok=True)
            self._isolate(roots, writes)
            return
        end = time.time()
        self._publish(writes)
        results = dict(zip(roots, out[len(writes) : len(writes) + len(roots)], strict=True))
        self.computed(owners, results, metrics, start, end)
        self.keep_cached(results, kept)

    # -- the cache ------------------------------------------------------------------------
    def _cache_files(self, roots: list[str]) -> dict[str, Any]:
        """Cached lazy outputs the collection computes but does not return, and whose plan
        cannot stand for their data: each is also written to a cache file by the collection."""
        s = self.s
        if not s.cache_keys:
            return {}
        closure: set[str] = set()
        for nid in roots:
            closure |= s.graph.ancestors(nid) | {nid}
        return {
            nid: s.cache.staging_file()
            for nid in s.cache_keys
            if nid in closure
            and nid not in roots
            and not s.cache.keeps_plan(s.graph.nodes[nid], s.values[nid])
        }

    def keep_cached(
        self, results: dict[str, pl.DataFrame] | None = None, kept: dict[str, Any] | None = None
    ) -> None:
        """Keep the cached lazy outputs that were computed: the collected frame, the file the
        collection wrote, or the plan (when it reads only the pipeline's own local files and
        calls no Python); an output computed inside an eager task whose plan cannot stand for
        it is materialised in the background."""
        s = self.s
        results, kept = results or {}, kept or {}
        for nid, key in list(s.cache_keys.items()):
            rec = s.record.tasks[nid]
            if rec.status != "done":
                continue
            del s.cache_keys[nid]
            node, value = s.graph.nodes[nid], s.values[nid]
            lazy = value.lazy() if isinstance(value, pl.DataFrame) else value
            if nid in results:
                s.cache.save_computed(node, key, lazy, frame=results[nid], rows=rec.rows)
            elif nid in kept:
                s.cache.save_computed(node, key, lazy, file=kept[nid], rows=rec.rows)
            else:
                plan = nid in kept or s.cache.keeps_plan(node, lazy)
                s.cache.save_computed(node, key, lazy, rows=rec.rows, materialise=not plan)

    def flush(self, writes: list[PendingWrite]) -> None:
        """Compute and publish ``writes`` now (a reader of their objects is about to start);
        raises when that fails (nothing of them is published then)."""
        start = time.time()
        try:
            _, metrics = plan_metrics.collect_all([w.sink for w in writes], metrics=self.metrics)
        except BaseException as exc:
            finish(writes, exc)
            raise
        end = time.time()
        error = finish(writes, None)
        if error is not None:
            raise error
        self.computed([w.node for w in writes], {}, metrics, start, end)

    def _publish(self, writes: list[PendingWrite]) -> None:
        for pending in writes:
            pending.release()
        for pending in writes:
            error = pending.wait()
            if error is not None and pending.node is not None:
                self.s.failed(self.s.graph.nodes[pending.node], error)

    # -- figures ------------------------------------------------------------------------
    def computed(
        self,
        owners: list[str | None],
        results: dict[str, pl.DataFrame],
        metrics: plan_metrics.QueryMetrics | None,
        start: float,
        end: float,
        *,
        note: str | None = None,
    ) -> None:
        """Mark the planned tasks behind ``owners`` computed, with their figures."""
        s = self.s
        graph, tasks = s.graph, s.record.tasks
        closure: set[str] = set()
        for nid in owners:
            if nid is not None:
                closure |= graph.ancestors(nid) | {nid}
        order = [nid for nid in graph.nodes if nid in closure]
        figures: dict[str, plan_metrics.TaskFigures] = {}
        if metrics is not None:
            lazy = {n: s.values[n] for n in order if isinstance(s.values.get(n), pl.LazyFrame)}
            inputs = {n: [u for u in graph.nodes[n].upstream if u in lazy] for n in lazy}
            own = plan_metrics.own_lines(lazy, inputs)
            ancestry = {n: graph.ancestors(n) for n in order}
            figures = plan_metrics.attribute(metrics, own, list(graph.nodes), owners, ancestry)
        wall, total = end - start, (metrics.seconds if metrics is not None else 0.0)
        for nid in order:
            rec = tasks[nid]
            if nid in results:  # a frame computed earlier by a flush is still handed out computed
                s.values[nid] = results[nid]
                rec.rows = results[nid].height
            if rec.status not in ("planned", "running"):
                continue
            fig = figures.get(nid)
            if fig is not None and fig.nodes and fig.seconds is not None and total > 0:
                rec.compute = wall * fig.seconds / total
                if rec.rows is None:
                    rec.rows = fig.rows
                rec.note = note
                if fig.after is not None and nid not in results:
                    rec.note = f"rows not known: polars runs part of {fig.after} before it"
            elif fig is not None and fig.fused_into is not None:
                rec.note = f"fused into {fig.fused_into}"
            else:
                rec.note = note or "in fused plan"
            rec.compute_start = start
            if rec.status == "running":
                continue  # a writer that flushed its own write: its call goes on
            rec.status = "done"
            s.emit(
                "task_finished",
                graph.nodes[nid],
                time=end,
                duration=rec.duration,
                rows=rec.rows,
                compute=rec.compute,
                note=rec.note,
            )

    # -- when the fused collection failed ------------------------------------------------
    def _isolate(self, roots: list[str], writes: list[PendingWrite]) -> None:
        """Compute each write and output on its own: healthy branches finish, culprits fail."""
        s = self.s
        tasks = s.record.tasks
        for pending in writes:
            node = pending.node
            if node is None or pending.redo is None or tasks[node].status != "planned":
                continue
            start = time.time()
            try:
                pending.redo()  # written directly (not deferred): published when complete
            except Exception as exc:
                culprit, error = self.culprit(node, exc)
                s.failed(s.graph.nodes[culprit], error)
                continue
            self.computed([node], {}, None, start, time.time(), note="computed on its own")
        for nid in roots:
            if tasks[nid].status != "planned":
                continue
            start = time.time()
            try:
                out, metrics = plan_metrics.collect_all([s.values[nid]], metrics=self.metrics)
            except Exception as exc:
                culprit, error = self.culprit(nid, exc)
                s.failed(s.graph.nodes[culprit], error)
                continue
            self.computed([nid], {nid: out[0]}, metrics, start, time.time())

    def culprit(self, sink: str, exc: BaseException) -> tuple[str, BaseException]:
        """The first upstream task whose own plan fails (the sink when none does). Upstream
        plans that compute on the way are done, with their exact rows."""
        s = self.s
        order = sorted(s.graph.ancestors(sink), key=lambda n: s.graph.nodes[n].index)
        for nid in order:
            value: Any = s.values.get(nid)
            if not isinstance(value, pl.LazyFrame):
                continue
            start = time.time()
            try:
                df = value.collect()
            except Exception as upstream_exc:
                return nid, upstream_exc
            if s.record.tasks[nid].status == "planned":
                rec = s.record.tasks[nid]
                rec.rows, rec.compute, rec.compute_start = df.height, time.time() - start, start
                rec.note = "computed on its own to find the failing task"
                rec.status = "done"
                s.emit(
                    "task_finished",
                    s.graph.nodes[nid],
                    time=time.time(),
                    duration=rec.duration,
                    rows=rec.rows,
                    compute=rec.compute,
                    note=rec.note,
                )
        return sink, exc
