"""The distributed runner (``mode="distributed"``): Dask executors run on a real cluster.

Tasks bound to a ``provider.cluster(config=DaskConfig(...))`` executor run on a
Dask cluster: ``DaskConfig(address="tcp://...")`` connects to a running scheduler
(Kubernetes, Coiled, Dask Gateway ... anything with a scheduler address);
``address=None`` starts a ``distributed.LocalCluster`` for the run and closes it
after. One client per distinct ``DaskConfig``. Every other in-process task runs
here, as in ``mode="local"``.

At an executor boundary a ``LazyFrame`` argument is collected here once; a small
frame is shipped with the task, a large one (over ``ship_threshold`` bytes,
default 64 MB, env ``GLACIER_SHIP_THRESHOLD``) is written to intermediate storage
(``GLACIER_STAGING``: a local folder, default ``.glacier/staging``, or an object
store URI that every worker can read) and the worker scans it. Workers collect
lazy outputs themselves and send them back the same way.

Retries (with the task's backoff) are done here, so a task whose worker dies is
resubmitted; a per-task ``timeout=`` cancels the Dask future. Ctrl-C cancels every
running future and the run record keeps what finished.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from concurrent.futures import CancelledError
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from glacier.errors import require
from glacier.run.limits import TaskCancelledError, TaskTimeoutError, WorkerLostError, timeout_message
from glacier.run.local import LocalRunner, describe_error
from glacier.run.main_guard import check_main_guard
from glacier.run.mapping import MappedTask, clear_into, combine, dataset, output_part, partitions

if TYPE_CHECKING:
    from glacier.config.execution import DaskConfig
    from glacier.graph import Node
    from glacier.task import Task

__all__ = ["DistributedRunner", "DaskCluster", "Shipped", "Staged", "SHIP_THRESHOLD", "close_clients"]

#: Frames up to this many bytes travel with the task; larger ones go through storage.
SHIP_THRESHOLD = 64 * 1024 * 1024


def _threshold_from_env() -> int:
    raw = os.environ.get("GLACIER_SHIP_THRESHOLD")
    if not raw:
        return SHIP_THRESHOLD
    text = raw.strip().upper().removesuffix("B")
    scale = {"K": 1024, "M": 1024**2, "G": 1024**3}.get(text[-1:], 1)
    return int(float(text.rstrip("KMG")) * scale)


# -- what travels between the client and the workers ---------------------------------------
@dataclass(frozen=True)
class Shipped:
    """A materialised frame sent with the task; ``lazy`` restores the LazyFrame type."""

    frame: pl.DataFrame
    lazy: bool

    def open(self) -> pl.DataFrame | pl.LazyFrame:
        return self.frame.lazy() if self.lazy else self.frame


@dataclass(frozen=True)
class Staged:
    """A frame written to intermediate storage (an Arrow IPC file)."""

    uri: str
    lazy: bool

    def open(self) -> pl.DataFrame | pl.LazyFrame:
        lf = pl.scan_ipc(self.uri)
        return lf if self.lazy else lf.collect()


def _pack(df: pl.DataFrame, lazy: bool, threshold: int, staging: str) -> Shipped | Staged:
    if df.estimated_size() <= threshold:
        return Shipped(df, lazy)
    uri = f"{staging.rstrip('/')}/{uuid.uuid4().hex}.arrow"
    if "://" in uri:
        import fsspec

        with fsspec.open(uri, "wb") as fh:
            df.write_ipc(fh)
    else:
        os.makedirs(staging, exist_ok=True)
        tmp = f"{uri}.tmp"
        df.write_ipc(tmp)
        os.replace(tmp, uri)
    return Staged(uri, lazy)


def _unpack(value: Any) -> Any:
    if isinstance(value, (Shipped, Staged)):
        return value.open()
    if isinstance(value, tuple):
        return tuple(_unpack(v) for v in value)
    if isinstance(value, list):
        return [_unpack(v) for v in value]
    if isinstance(value, dict):
        return {k: _unpack(v) for k, v in value.items()}
    return value


def run_on_worker(
    task: Task,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    threshold: int,
    staging: str,
    into: Any = None,
) -> Any:
    """What a Dask worker runs: the task's function once (retries are the client's),
    with lazy outputs collected here. With ``into`` the frame is written there and
    only its row count comes back."""
    args, kwargs = _unpack(args), _unpack(kwargs)
    if task.frame_params:
        args, kwargs = task.convert_inputs(args, kwargs)
    result = task.check_output(task.fn(*args, **kwargs))
    if into is not None:
        if not isinstance(result, (pl.DataFrame, pl.LazyFrame)):
            raise TypeError(f"{task.name}.map(into=...) needs {task.name} to return a polars frame")
        df = result.collect() if isinstance(result, pl.LazyFrame) else result
        into.write(df)
        return df.height
    if isinstance(result, pl.LazyFrame):
        return _pack(result.collect(), True, threshold, staging)
    if isinstance(result, pl.DataFrame):
        return _pack(result, False, threshold, staging)
    return result


# -- clusters ----------------------------------------------------------------------------------
_CLIENTS: dict[str, Any] = {}
_CLIENTS_LOCK = threading.Lock()


def close_clients(address: str | None = None) -> None:
    """Close the kept clients (of ``address``, or all): call it before stopping a scheduler."""
    with _CLIENTS_LOCK:
        doomed = [a for a in _CLIENTS if address is None or a == address]
        clients = [_CLIENTS.pop(a) for a in doomed]
    for client in clients:
        try:
            client.close()
        except Exception:
            pass


def _check_reachable(executor: str, address: str, record: Any, timeout: float = 3.0) -> None:
    """Fail in seconds, naming the executor and the address, when no scheduler answers."""
    import socket
    from urllib.parse import urlsplit

    from glacier.errors import PipelineError

    parts = urlsplit(address)
    host, port = parts.hostname, parts.port
    if not host or not port:
        return  # not a host:port address (inproc://, ucx ...): let Dask connect
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise PipelineError(
            f"the Dask scheduler of executor {executor!r} at {address} cannot be reached "
            f"({type(exc).__name__}: {exc}); check the scheduler is running and the address and "
            "port in DaskConfig(address=...) are right. No task was run.",
            record,
        ) from None


class DaskCluster:
    """A client for one ``DaskConfig``: connected to ``address``, or to a LocalCluster it owns."""

    def __init__(self, config: DaskConfig) -> None:
        distributed = require("distributed", "dask", "mode='distributed' with a DaskConfig executor")
        import dask

        self.config = config
        self.cluster: Any = None
        if config.address:
            # clients of running schedulers are kept for the session (connecting costs ~0.1 s)
            with _CLIENTS_LOCK:
                client = _CLIENTS.get(config.address)
                if client is None or client.status not in ("running", "connecting"):
                    client = distributed.Client(config.address, set_as_default=False, timeout="30s")
                    _CLIENTS[config.address] = client
            self.client = client
        else:
            check_main_guard(config.processes)  # workers re-import __main__: refuse an unguarded run
            # a dead worker is one attempt: Glacier's own retries decide what happens next
            with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
                self.cluster = distributed.LocalCluster(
                    n_workers=config.n_workers,
                    threads_per_worker=config.threads_per_worker,
                    processes=config.processes,
                    memory_limit=config.memory_limit or "auto",
                    host="127.0.0.1",
                    dashboard_address="127.0.0.1:0",  # no fixed port 8787 (None still binds it)
                )
            self.client = distributed.Client(self.cluster, set_as_default=False)

    def close(self) -> None:
        if self.cluster is None:
            return  # a shared client of a running scheduler: kept
        try:
            self.client.close()
        finally:
            self.cluster.close()


# -- the runner -----------------------------------------------------------------------------------
@dataclass
class _Job:
    index: int
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    into: Any = None
    attempt: int = 0
    future: Any = None
    started: float = 0.0


class DistributedRunner(LocalRunner):
    """Runs Dask-bound tasks on their cluster, everything else in this process.

    Parameters
    ----------
    ship_threshold : int, optional
        Bytes up to which a frame is sent with the task (default 64 MB or
        ``GLACIER_SHIP_THRESHOLD``); larger frames go through ``staging``.
    staging : str, optional
        Folder or URI for intermediate frames (default ``GLACIER_STAGING`` or
        ``.glacier/staging``); this run's files are removed when it ends.
    """

    poll_interval = 0.1

    def __init__(
        self,
        *args: Any,
        ship_threshold: int | None = None,
        staging: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.ship_threshold = ship_threshold if ship_threshold is not None else _threshold_from_env()
        base = (
            staging
            or os.environ.get("GLACIER_STAGING")
            or os.path.abspath(os.path.join(".glacier", "staging"))
        )
        self.staging = f"{base.rstrip('/')}/{self.record.run_id}"
        self.clusters: dict[DaskConfig, DaskCluster] = {}
        self._futures: set[Any] = set()
        self._lock = threading.Lock()
        self._cancelled = threading.Event()
        self._shipped: dict[int, tuple[pl.LazyFrame, Any]] = {}

    # -- lifecycle ---------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        try:
            self.connect()
            return super().run()
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                self.cancel()
                now = time.time()
                for rec in self.record.tasks.values():
                    if rec.status == "running":
                        rec.error = "TaskCancelledError: interrupted (Ctrl-C); its Dask future was cancelled"
                        rec.end = now
            raise
        finally:
            self.close()

    def connect(self) -> None:
        """Start or connect one client per distinct ``DaskConfig`` used by the graph."""
        for node in self.graph.nodes.values():
            executor = node.task.executor
            if executor.engine == "dask" and executor.config not in self.clusters:
                if executor.config.address:
                    _check_reachable(executor.name, executor.config.address, self.record)
                self.clusters[executor.config] = DaskCluster(executor.config)

    def cancel(self) -> None:
        """Cancel every Dask future still running (Ctrl-C)."""
        self._cancelled.set()
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

    def close(self) -> None:
        clusters, self.clusters = self.clusters, {}
        for cluster in clusters.values():
            try:
                cluster.close()
            except Exception:
                pass
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

    # -- one task ----------------------------------------------------------------------------
    def call_task(self, node: Node, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        executor = node.task.executor
        if executor.engine != "dask":
            return super().call_task(node, args, kwargs)
        client = self.clusters[executor.config].client
        task = node.task
        if isinstance(task, MappedTask):
            source, *rest = args
            parts = partitions(source)
            extra, kw = self.ship(tuple(rest)), self.ship(kwargs)
            if task.into is not None:
                clear_into(task.into)
            jobs = [
                _Job(
                    i, (part, *extra), kw, output_part(task.into, part, i) if task.into is not None else None
                )
                for i, part in enumerate(parts)
            ]
            results = self.run_jobs(node, client, task.inner, jobs)
            return dataset(task.into) if task.into is not None else combine(results)
        (result,) = self.run_jobs(node, client, task, [_Job(0, self.ship(args), self.ship(kwargs))])
        return result

    def ship(self, value: Any) -> Any:
        """Materialise lazy frames once for the trip to a worker (small: inline, large: staged)."""
        if isinstance(value, pl.LazyFrame):
            with self._lock:
                held = self._shipped.get(id(value))
            if held is not None and held[0] is value:
                return held[1]
            packed = _pack(value.collect(), True, self.ship_threshold, self.staging)
            with self._lock:
                self._shipped[id(value)] = (value, packed)
            return packed
        if isinstance(value, pl.DataFrame):
            return _pack(value, False, self.ship_threshold, self.staging)
        if isinstance(value, tuple):
            return tuple(self.ship(v) for v in value)
        if isinstance(value, list):
            return [self.ship(v) for v in value]
        if isinstance(value, dict):
            return {k: self.ship(v) for k, v in value.items()}
        return value

    def run_jobs(self, node: Node, client: Any, task: Task, jobs: list[_Job]) -> list[Any]:
        """Submit every job, resubmit failures while retries remain, enforce the timeout,
        and return the results in job order."""
        from distributed import wait

        results: list[Any] = [None] * len(jobs)
        live: dict[Any, _Job] = {}
        outer = node.task
        timeout = outer.timeout

        def submit(batch: list[_Job]) -> None:
            # one client.map: a single message to the scheduler for the whole batch
            tag = uuid.uuid4().hex[:8]
            futures = client.map(
                run_on_worker,
                [task] * len(batch),
                [job.args for job in batch],
                [job.kwargs for job in batch],
                [self.ship_threshold] * len(batch),
                [self.staging] * len(batch),
                [job.into for job in batch],
                key=[f"{node.id}-{job.index}-{job.attempt}-{tag}" for job in batch],
                pure=False,
            )
            now = time.monotonic()
            for job, future in zip(batch, futures, strict=True):
                job.future, job.started = future, now
                live[future] = job
            with self._lock:
                self._futures.update(futures)

        def forget(future: Any) -> None:
            live.pop(future, None)
            with self._lock:
                self._futures.discard(future)

        finished: list[tuple[int, Any]] = []
        submit(jobs)
        try:
            while live:
                if self._cancelled.is_set():
                    raise TaskCancelledError(f"{node.id}: the run was interrupted")
                wait_for = self.poll_interval * 5
                if timeout is not None:
                    oldest = min(j.started for j in live.values())
                    wait_for = max(0.0, min(wait_for, oldest + timeout - time.monotonic()))
                try:
                    with client.as_current():
                        # all at once (one round trip); failures are picked up every poll
                        wait(list(live), timeout=wait_for, return_when="ALL_COMPLETED")
                except TimeoutError:
                    pass
                now = time.monotonic()
                done = [f for f in live if f.done()]
                for future in done:
                    if future.status == "finished":
                        finished.append((live[future].index, future))
                        forget(future)
                again: list[_Job] = []
                for future in done:
                    if future.status == "finished":
                        continue
                    job = live[future]
                    forget(future)
                    if future.status == "cancelled":
                        raise TaskCancelledError(f"{node.id}: its Dask future was cancelled")
                    exc = future.exception()
                    if job.attempt >= task.retries:
                        raise _translate(node, exc, job.attempt + 1) from exc
                    self._retried(node, job.attempt + 1, exc)
                    delay = task.retry_delay * (task.backoff**job.attempt)
                    if self._cancelled.wait(delay):
                        raise TaskCancelledError(f"{node.id}: the run was interrupted")
                    job.attempt += 1
                    again.append(job)
                if again:
                    submit(again)
                if timeout is not None:
                    for job in list(live.values()):
                        if now - job.started >= timeout:
                            raise TaskTimeoutError(
                                timeout_message(
                                    node.id, now - job.started, timeout, f"on Dask, {node.task.executor.name}"
                                )
                            )
        except BaseException:
            pending = list(live)
            for future in pending:
                forget(future)
            if pending:
                client.cancel(pending, force=True)
            raise
        values = client.gather([future for _, future in finished])  # one round trip for all results
        for (index, _), value in zip(finished, values, strict=True):
            results[index] = _unpack(value)
            if isinstance(value, Staged) and isinstance(results[index], pl.LazyFrame):
                with self._lock:  # a later Dask task gets the staged file, not a trip through here
                    self._shipped[id(results[index])] = (results[index], value)
        return results

    def _retried(self, node: Node, attempt: int, exc: BaseException) -> None:
        rec = self.record.tasks[node.id]
        rec.attempts = max(rec.attempts, attempt + 1)
        self.emit("task_retried", node, attempt=attempt, error=describe_error(exc))


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
