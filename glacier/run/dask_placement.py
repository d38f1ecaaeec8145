"""The Dask placement (``mode="distributed"``): tasks bound to a ``DaskConfig`` executor
run on their Dask cluster (clients: :mod:`glacier.run.dask_clients`); every other task
runs in this process, as in ``mode="local"``.

At an executor boundary a ``LazyFrame`` argument is collected here once and travels
in the wire format (:mod:`glacier.run.wire`): a small frame with the task, a large one
(over ``ship_threshold`` bytes, default 64 MB, env ``GLACIER_SHIP_THRESHOLD``) through
intermediate storage (``GLACIER_STAGING``: a local folder, default ``.glacier/staging``,
or an object store URI that every worker can read), which the worker scans. Workers
collect lazy outputs themselves and send them back the same way.

Retries (with the task's backoff) are done here, so a task whose worker dies is
resubmitted; a per-task ``timeout=`` cancels the Dask future. Ctrl-C cancels every
running future.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from concurrent.futures import CancelledError
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from glacier import partitions as parts
from glacier.graph import rebuild
from glacier.run.dask_clients import DaskCluster, check_reachable
from glacier.run.limits import TaskCancelledError, TaskTimeoutError, WorkerLostError, timeout_message
from glacier.run.placement import Call, Placement
from glacier.run.wire import Shipped, Staged, pack, run_on_worker, threshold_from_env, unpack
from glacier.task import MappedTask

if TYPE_CHECKING:
    from glacier.config.execution import DaskConfig
    from glacier.graph import Graph, Node
    from glacier.resources.executor import Executor
    from glacier.run.record import RunRecord
    from glacier.task import Task

__all__ = ["DaskPlacement"]

#: a frame sent with a task above this size is scattered to the cluster first: Dask warns
#: about (and slows down on) large objects inside a task graph
SCATTER_BYTES = 1_000_000


@dataclass
class _Job:
    index: int
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    into: Any = None
    attempt: int = 0
    future: Any = None
    started: float = 0.0


@dataclass
class _Batch:
    """The Dask jobs of one task call (one per partition for a map)."""

    call: Call
    client: Any
    task: Task
    jobs: list[_Job]
    live: dict[Any, _Job] = field(default_factory=dict)
    finished: list[tuple[int, Any]] = field(default_factory=list)
    describe: Any = None  # lineage on: reads the task's plans on the worker


class DaskPlacement(Placement):
    """Dask-bound tasks on their cluster.

    Parameters
    ----------
    ship_threshold : int, optional
        Bytes up to which a frame is sent with the task (default 64 MB or
        ``GLACIER_SHIP_THRESHOLD``); larger frames go through ``staging``.
    staging : str, optional
        Folder or URI for intermediate frames (default ``GLACIER_STAGING`` or
        ``.glacier/staging``); the run's files are removed when it ends.
    """

    stop_note = "its Dask future was cancelled"
    poll_interval = 0.1

    def __init__(self, *, ship_threshold: int | None = None, staging: str | None = None) -> None:
        self.ship_threshold = ship_threshold if ship_threshold is not None else threshold_from_env()
        self.base = (
            staging
            or os.environ.get("GLACIER_STAGING")
            or os.path.abspath(os.path.join(".glacier", "staging"))
        )
        self.staging = self.base
        self.clusters: dict[DaskConfig, DaskCluster] = {}
        self._futures: set[Any] = set()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._shipped: dict[int, tuple[pl.LazyFrame, Any]] = {}
        self._scattered: dict[tuple[int, int], tuple[Shipped, Any]] = {}  # (frame, client) -> future
        self.run_id, self._describers = "", None

    def accepts(self, executor: Executor) -> bool:
        return executor.engine == "dask"

    def open(self, graph: Graph, record: RunRecord) -> None:
        """Start or connect one client per distinct ``DaskConfig`` used by the graph."""
        self.staging = f"{self.base.rstrip('/')}/{record.run_id}"
        from glacier.lineage.remote import describers  # None unless OpenLineage is configured

        self.run_id, self._describers = record.run_id, describers(graph)
        for node in graph.nodes.values():
            executor = node.task.executor
            if executor.engine == "dask" and executor.config not in self.clusters:
                if executor.config.address:
                    check_reachable(executor.name, executor.config.address, record)
                self.clusters[executor.config] = DaskCluster(executor.config)

    # -- one call ----------------------------------------------------------------------------
    def submit(self, call: Call) -> _Batch:
        task = call.node.task
        client = self.clusters[task.executor.config].client
        if isinstance(task, MappedTask):
            source, *rest = call.args
            found = parts.partitions(source)
            extra, kw = self.ship(tuple(rest)), self.ship(call.kwargs)
            if task.into is not None:
                parts.clear_into(task.into)
            jobs = [
                _Job(
                    i,
                    (part, *extra),
                    kw,
                    parts.output_part(task.into, part, i) if task.into is not None else None,
                )
                for i, part in enumerate(found)
            ]
            batch = _Batch(call, client, task.inner, jobs)
        else:
            batch = _Batch(call, client, task, [_Job(0, self.ship(call.args), self.ship(call.kwargs))])
            batch.describe = self._describers(call.node) if self._describers else None
        self._send(batch, batch.jobs)
        return batch

    def result(self, handle: _Batch) -> Any:
        try:
            self._wait(handle)
        except BaseException:
            pending = list(handle.live)
            for future in pending:
                self._forget(handle, future)
            if pending:
                handle.client.cancel(pending, force=True)
            raise
        results: list[Any] = [None] * len(handle.jobs)
        values = handle.client.gather([future for _, future in handle.finished])  # one round trip
        for (index, _), value in zip(handle.finished, values, strict=True):
            if handle.describe is not None:  # the lineage read on the worker, for the run's observer
                from glacier.lineage.remote import received

                received(self.run_id, handle.call.node.id, value)
                value = value.value
            results[index] = unpack(value)
            if isinstance(value, Staged) and isinstance(results[index], pl.LazyFrame):
                with self._lock:  # a later Dask task gets the staged file, not a trip through here
                    self._shipped[id(results[index])] = (results[index], value)
        task = handle.call.node.task
        if isinstance(task, MappedTask):
            return parts.dataset(task.into) if task.into is not None else parts.combine(results)
        return results[0]

    def ship(self, value: Any) -> Any:
        """Materialise lazy frames once for the trip to a worker (small: inline, large: staged)."""
        return rebuild(value, self._ship_one)

    def _ship_one(self, value: Any) -> Any:
        if isinstance(value, pl.LazyFrame):
            with self._lock:
                held = self._shipped.get(id(value))
            if held is not None and held[0] is value:
                return held[1]
            packed = pack(value.collect(), True, self.ship_threshold, self.staging)
            with self._lock:
                self._shipped[id(value)] = (value, packed)
            return packed
        if isinstance(value, pl.DataFrame):
            return pack(value, False, self.ship_threshold, self.staging)
        return value

    def _scatter(self, client: Any, value: Any) -> Any:
        """Frames over ``SCATTER_BYTES`` travel to the workers once, as Dask futures, instead
        of inside the task graph."""

        def one(item: Any) -> Any:
            if not isinstance(item, Shipped) or item.frame.estimated_size() <= SCATTER_BYTES:
                return item
            key = (id(item), id(client))
            with self._lock:
                held = self._scattered.get(key)
            if held is not None and held[0] is item:
                return held[1]
            future = client.scatter(item, hash=False)
            with self._lock:
                self._scattered[key] = (item, future)
            return future

        return rebuild(value, one)

    def _send(self, batch: _Batch, jobs: list[_Job]) -> None:
        # one client.map: a single message to the scheduler for the whole batch
        node, tag = batch.call.node, uuid.uuid4().hex[:8]
        futures = batch.client.map(
            run_on_worker,
            [batch.task] * len(jobs),
            [self._scatter(batch.client, job.args) for job in jobs],
            [self._scatter(batch.client, job.kwargs) for job in jobs],
            [self.ship_threshold] * len(jobs),
            [self.staging] * len(jobs),
            [job.into for job in jobs],
            [batch.describe] * len(jobs),
            key=[f"{node.id}-{job.index}-{job.attempt}-{tag}" for job in jobs],
            pure=False,
        )
        now = time.monotonic()
        for job, future in zip(jobs, futures, strict=True):
            job.future, job.started = future, now
            batch.live[future] = job
        with self._lock:
            self._futures.update(futures)

    def _forget(self, batch: _Batch, future: Any) -> None:
        batch.live.pop(future, None)
        with self._lock:
            self._futures.discard(future)

    def _wait(self, batch: _Batch) -> None:
        """Wait for every job, resubmit failures while retries remain, enforce the timeout."""
        from distributed import wait

        node, task, live = batch.call.node, batch.task, batch.live
        timeout = node.task.timeout
        while live:
            if self._closed.is_set():
                raise TaskCancelledError(f"{node.id}: the run was interrupted")
            wait_for = self.poll_interval * 5
            if timeout is not None:
                oldest = min(j.started for j in live.values())
                wait_for = max(0.0, min(wait_for, oldest + timeout - time.monotonic()))
            try:
                with batch.client.as_current():
                    # all at once (one round trip); failures are picked up every poll
                    wait(list(live), timeout=wait_for, return_when="ALL_COMPLETED")
            except TimeoutError:
                pass
            now = time.monotonic()
            done = [f for f in live if f.done()]
            again: list[_Job] = []
            for future in done:
                job = live[future]
                self._forget(batch, future)
                if future.status == "finished":
                    batch.finished.append((job.index, future))
                    continue
                if future.status == "cancelled":
                    raise TaskCancelledError(f"{node.id}: its Dask future was cancelled")
                exc = future.exception()
                if job.attempt >= task.retries:
                    raise _translate(node, exc, job.attempt + 1) from exc
                batch.call.run.pause(task.retry_delay * (task.backoff**job.attempt))
                job.attempt += 1
                batch.call.on_retry(job.attempt, exc)
                again.append(job)
            if again:
                self._send(batch, again)
            if timeout is not None:
                for job in list(live.values()):
                    if now - job.started >= timeout:
                        where = f"on Dask, {node.task.executor.name}"
                        raise TaskTimeoutError(timeout_message(node.id, now - job.started, timeout, where))

    # -- the end of the run ------------------------------------------------------------------
    def close(self) -> None:
        """Cancel every Dask future still running, close the run's clusters, drop its staging."""
        self._closed.set()
        with self._lock:
            futures = list(self._futures)
        by_client: dict[int, tuple[Any, list[Any]]] = {}
        for future in futures:
            by_client.setdefault(id(future.client), (future.client, []))[1].append(future)
        for client, group in by_client.values():
            try:
                client.cancel(group, force=True)
            except Exception:
                pass
        with self._lock:
            self._scattered.clear()  # the data scattered for this run is released with its futures
        clusters, self.clusters = self.clusters, {}
        for cluster in clusters.values():
            try:
                cluster.close()
            except Exception:
                pass
        self._drop_staging()

    def _drop_staging(self) -> None:
        if self.staging == self.base:
            return  # never opened: no run folder
        if "://" not in self.staging:
            if os.path.isdir(self.staging):
                import shutil

                shutil.rmtree(self.staging, ignore_errors=True)
            return
        try:  # object-store staging: best effort, the run's prefix only
            import fsspec

            fs, path = fsspec.core.url_to_fs(self.staging)
            if fs.exists(path):
                fs.rm(path, recursive=True)
        except Exception:
            pass


def _translate(node: Node, exc: BaseException | None, attempts: int) -> BaseException:
    """Say plainly what a Dask-side failure means."""
    if exc is None:  # pragma: no cover - Dask always gives one for an erred future
        return RuntimeError(f"{node.id}: failed on Dask")
    if type(exc).__name__ == "KilledWorker":
        tries = f"after {attempts} attempt{'s' if attempts > 1 else ''}"
        return WorkerLostError(
            f"{node.id}: the Dask worker running it died ({tries}; set retries= to resubmit it, "
            "and check the worker's memory limit and logs)"
        )
    if isinstance(exc, CancelledError):
        return TaskCancelledError(f"{node.id}: its Dask future was cancelled")
    return exc
