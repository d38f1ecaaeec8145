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

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from typing import TYPE_CHECKING, Any

from glacier import partitions as parts
from glacier.errors import require
from glacier.run import payload
from glacier.run.limits import MemoryLimitError, TaskTimeoutError, memory_message, timeout_message
from glacier.run.placement import Call, Placement
from glacier.run.wire import inline, run_on_worker, unpack
from glacier.task import MappedTask

if TYPE_CHECKING:
    from glacier.graph import Graph
    from glacier.resources.executor import Executor
    from glacier.run.record import RunRecord
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

    def open(self, graph: Graph, record: RunRecord) -> None:
        _sweep_stale()

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
        config = task.executor.config
        name = label or task.name
        limit = int(config.memory) * 1024 * 1024  # type: ignore[union-attr]
        limits = [(float(config.timeout), f"{type(config).__name__}(timeout={config.timeout})")]  # type: ignore[union-attr]
        if timeout is not None:
            limits.append((float(timeout), f"the task's timeout={timeout:g}"))
        seconds, source = min(limits)
        secrets: list[str] = []
        data = payload.dumps(
            (task, args, kwargs, into),
            secrets,
            label=name,
            check=payload.known_secrets(task.executor.provider.config),
        )
        # a private folder (0700) named after this process, so a later run can sweep it if we are killed
        with tempfile.TemporaryDirectory(prefix=f"glacier-emulate-{os.getpid()}-") as tmp:
            call, result, log = (os.path.join(tmp, n) for n in ("payload.pkl", "result.pkl", "stderr.txt"))
            ready = f"{result}.started"
            _write_private(call, data)
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
            with open(os.open(log, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as err:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "glacier.run.emulate", call, result, str(os.getpid())],
                    stdin=subprocess.PIPE,
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
                _send_secrets(proc, secrets)  # through the pipe: never in a file
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
                status, value, child_peak = payload.loads(fh.read(), secrets)
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


def _write_private(path: str, data: bytes) -> None:
    """Write ``data`` to a new file only this user can read (0600)."""
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as fh:
        fh.write(data)


def _send_secrets(proc: subprocess.Popen[bytes], secrets: list[str]) -> None:
    assert proc.stdin is not None
    try:
        proc.stdin.write(json.dumps(secrets).encode())
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        pass  # the process died already: reported below


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep_stale() -> None:
    """Remove the call folders of processes that were killed before they could clean up."""
    for path in glob.glob(os.path.join(tempfile.gettempdir(), "glacier-emulate-*-*")):
        owner = os.path.basename(path).removeprefix("glacier-emulate-").split("-", 1)[0]
        if owner.isdigit() and not _alive(int(owner)):
            shutil.rmtree(path, ignore_errors=True)


def _watch_parent(parent: int, folder: str) -> None:
    """Exit (removing the call's folder) as soon as the process that started us is gone."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.1)
        shutil.rmtree(folder, ignore_errors=True)
        os._exit(70)

    threading.Thread(target=watch, name="glacier-parent-watch", daemon=True).start()


def _child(call: str, result: str, parent: int) -> None:
    """The emulated function: load the call, run it, write the outcome atomically."""
    _watch_parent(parent, os.path.dirname(call))
    secrets = json.loads(sys.stdin.buffer.read() or b"[]")
    with open(call, "rb") as fh:
        data = fh.read()
    os.remove(call)  # read once: nothing of the call stays on disk while it runs
    task, args, kwargs, into = payload.loads(data, secrets)
    _write_private(f"{result}.started", b"")
    try:
        outcome: tuple[str, Any] = ("ok", run_on_worker(task, args, kwargs, _NO_STAGING, "", into))
    except Exception as exc:
        outcome = ("error", exc)
    peak = _peak_rss(os.getpid())  # VmHWM: ru_maxrss would carry the parent's peak over exec
    known = len(secrets)
    try:
        out = payload.dumps((*outcome, peak), secrets, label=task.name)
        if len(secrets) > known:
            raise RuntimeError("its result holds a credential the caller did not send")
    except Exception as exc:
        del secrets[known:]
        out = payload.dumps(
            ("error", RuntimeError(f"{task.name}: {outcome[1]!r} ({exc})"), peak), secrets, label=task.name
        )
    _write_private(f"{result}.tmp", out)
    os.replace(f"{result}.tmp", result)


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2], int(sys.argv[3]))
