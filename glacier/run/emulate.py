"""Serverless limits emulated locally: ``run(mode="local", emulate=True)``.

Every task bound to a serverless executor (``LambdaConfig``, ``CloudFunctionConfig``,
``AzureFunctionConfig``) runs in a fresh Python process, as its function would,
under the function's memory and timeout:

- memory: the child's peak resident memory (Linux ``VmHWM``, polled every 20 ms,
  and once more by the child as it exits) must stay within ``memory`` MB; the
  child is killed as soon as it goes over. The interpreter and polars count, as
  they do in the real function.
- time: the child is killed after ``timeout`` seconds (or the task's ``timeout=``
  when smaller).

Inputs are materialised here and sent to the child (the function receives its
data); lazy outputs are collected in the child. A partition map runs one child
per partition (one invocation per file). Other tasks run in this process.

Errors read ``clean: peak memory 1.6 GB exceeds LambdaConfig(memory=1024)`` and
``clean: ran 312 s, timeout is 300 s``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from typing import TYPE_CHECKING, Any

from glacier import partitions as parts
from glacier.errors import require
from glacier.run.limits import MemoryLimitError, TaskTimeoutError, memory_message, timeout_message
from glacier.run.placement import Call, Placement
from glacier.run.wire import inline, run_on_worker, unpack
from glacier.task import MappedTask

if TYPE_CHECKING:
    from glacier.resources.executor import Executor
    from glacier.task import Task

__all__ = ["EmulatedProcess"]

_NO_STAGING = 1 << 62  # everything travels through the pipe files, nothing is staged
_POLL = 0.02


class EmulatedProcess(Placement):
    """Serverless tasks in a child process under their function's memory and timeout."""

    stop_note = "its function process was killed"

    def __init__(self) -> None:
        self._procs: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()
        self._closed = False

    def accepts(self, executor: Executor) -> bool:
        return executor.kind == "serverless" and hasattr(executor.config, "memory")

    def submit(self, call: Call) -> Call:
        return call

    def result(self, handle: Call) -> Any:
        task = handle.node.task
        if not isinstance(task, MappedTask):
            return self._invoke(handle, task, inline(handle.args), inline(handle.kwargs), None)
        source, *rest = handle.args
        extra, kw = inline(tuple(rest)), inline(handle.kwargs)
        if task.into is not None:
            parts.clear_into(task.into)
        results = []
        for index, part in enumerate(parts.partitions(source)):
            into = parts.output_part(task.into, part, index) if task.into is not None else None
            results.append(self._invoke(handle, task.inner, (part, *extra), kw, into))
        return parts.dataset(task.into) if task.into is not None else parts.combine(results)

    def _invoke(self, call: Call, task: Task, args: Any, kwargs: Any, into: Any) -> Any:
        node = call.node
        return task.retrying(
            lambda: self.run_limited(task, args, kwargs, into=into, timeout=node.task.timeout, label=node.id),
            on_retry=call.on_retry,
            pause=call.run.pause,
            final=(MemoryLimitError, TaskTimeoutError),  # the same input hits the same limit again
        )

    def run_limited(
        self,
        task: Task,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        into: Any = None,
        timeout: float | None = None,
        label: str | None = None,
    ) -> Any:
        """Run ``task`` once in a child process under its serverless config's limits."""
        cloudpickle = require("cloudpickle", "dask", "emulate=True (serverless limits)")
        config = task.executor.config
        name = label or task.name
        limit = int(config.memory) * 1024 * 1024  # type: ignore[union-attr]
        limits = [(float(config.timeout), f"{type(config).__name__}(timeout={config.timeout})")]  # type: ignore[union-attr]
        if timeout is not None:
            limits.append((float(timeout), f"the task's timeout={timeout:g}"))
        seconds, source = min(limits)
        with tempfile.TemporaryDirectory(prefix="glacier-emulate-") as tmp:
            payload, result, log = (os.path.join(tmp, n) for n in ("payload.pkl", "result.pkl", "stderr.txt"))
            ready = f"{result}.started"
            with open(payload, "wb") as fh:
                cloudpickle.dump((task, args, kwargs, into), fh)
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
            with open(log, "wb") as err:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "glacier.run.emulate", payload, result],
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                    env=env,
                    cwd=os.getcwd(),
                )
            with self._lock:
                self._procs.add(proc)
                if self._closed:  # stopped while this process was starting
                    proc.kill()
            start: float | None = None  # the clock starts when the call starts (init is not billed)
            peak = 0
            try:
                while proc.poll() is None and not os.path.exists(result):  # the call ends at its result
                    peak = max(peak, _peak_rss(proc.pid))
                    if start is None and os.path.exists(ready):
                        start = time.monotonic()
                    elapsed = time.monotonic() - start if start is not None else 0.0
                    if peak > limit:
                        raise MemoryLimitError(memory_message(name, peak, config))
                    if elapsed > seconds:
                        raise TaskTimeoutError(timeout_message(name, elapsed, seconds, source))
                    time.sleep(_POLL)
                if proc.poll() is None:
                    try:
                        proc.wait(timeout=10)  # interpreter shutdown, not billed
                    except subprocess.TimeoutExpired:
                        pass
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                with self._lock:
                    self._procs.discard(proc)
            if not os.path.exists(result):
                with open(log, encoding="utf-8", errors="replace") as fh:
                    tail = fh.read().strip().splitlines()[-3:]
                code = proc.returncode
                why = "killed by a signal" if code is not None and code < 0 else f"exit code {code}"
                raise RuntimeError(f"{name}: its emulated function process died ({why}): {' | '.join(tail)}")
            with open(result, "rb") as fh:
                status, value, child_peak = cloudpickle.load(fh)
        peak = max(peak, child_peak)
        if peak > limit:
            raise MemoryLimitError(memory_message(name, peak, config))
        if status == "error":
            raise value
        return unpack(value)

    def close(self) -> None:
        """Kill every function process still running (Ctrl-C)."""
        with self._lock:
            self._closed = True
            procs = list(self._procs)
        for proc in procs:
            if proc.poll() is None:
                proc.kill()


def _peak_rss(pid: int) -> int:
    """Peak resident memory of ``pid`` so far (VmHWM), or its current RSS."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    try:
        psutil = require("psutil", "dask", "emulate=True (memory limits)")
        return int(psutil.Process(pid).memory_info().rss)
    except Exception:
        return 0


def _child(payload: str, result: str) -> None:
    """The emulated function: load the call, run it, write the outcome atomically."""
    import cloudpickle

    with open(payload, "rb") as fh:
        task, args, kwargs, into = cloudpickle.load(fh)
    open(f"{result}.started", "wb").close()
    try:
        outcome: tuple[str, Any] = ("ok", run_on_worker(task, args, kwargs, _NO_STAGING, "", into))
    except Exception as exc:
        outcome = ("error", exc)
    peak = _peak_rss(os.getpid())  # VmHWM: ru_maxrss would carry the parent's peak over exec
    try:
        data = cloudpickle.dumps((*outcome, peak))
    except Exception as exc:
        data = cloudpickle.dumps(("error", RuntimeError(f"{task.name}: {outcome[1]!r} ({exc})"), peak))
    tmp = f"{result}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, result)


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2])
