"""Errors for tasks stopped by a limit: time, memory, a lost worker, an interrupt."""

from __future__ import annotations

from typing import Any

from glacier.errors import GlacierError

__all__ = [
    "TaskTimeoutError",
    "MemoryLimitError",
    "WorkerLostError",
    "TaskCancelledError",
    "format_bytes",
    "timeout_message",
    "memory_message",
]


class TaskTimeoutError(GlacierError, TimeoutError):
    """A task ran longer than its ``timeout=`` (or its serverless function's timeout)."""


class MemoryLimitError(GlacierError, MemoryError):
    """A task used more memory than its serverless function would have."""


class WorkerLostError(GlacierError, RuntimeError):
    """The Dask worker running a task died, and no retries were left."""


class TaskCancelledError(GlacierError, RuntimeError):
    """The run was interrupted while the task was running."""


def format_bytes(n: float) -> str:
    """``1.6 GB``, ``512 MB``, ``900 kB`` (decimal units, as cloud consoles show)."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}".replace(".0 ", " ")
    return f"{int(n)} B"


def timeout_message(task: str, elapsed: float, timeout: float, where: str = "") -> str:
    """``clean: ran 312 s, timeout is 300 s``."""
    suffix = f" ({where})" if where else ""
    return (
        f"{task}: ran {_seconds(elapsed)} s, timeout is {timeout:g} s{suffix}; raise timeout= or split the work "
        "(task.map over partitions)"
    )


def _seconds(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def memory_message(task: str, peak: float, config: Any) -> str:
    """``clean: peak memory 1.6 GB exceeds LambdaConfig(memory=1024)``."""
    return (
        f"{task}: peak memory {format_bytes(peak)} exceeds {type(config).__name__}(memory={config.memory}); "
        "raise memory= or process less data per call (task.map over partitions)"
    )
