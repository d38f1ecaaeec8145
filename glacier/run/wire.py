"""The wire format: how task inputs and outputs travel to another process and back.

At an executor boundary a ``LazyFrame`` is collected once; a small frame travels with the
call (:class:`Shipped`), a large one (over the threshold) is written to intermediate storage
as an Arrow IPC file (:class:`Staged`) and the other side scans it. :func:`run_on_worker`
is what the other side (a Dask worker, an emulated function process) runs.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from glacier.graph import rebuild

if TYPE_CHECKING:
    from glacier.task import Task

__all__ = [
    "Shipped",
    "Staged",
    "SHIP_THRESHOLD",
    "threshold_from_env",
    "pack",
    "inline",
    "unpack",
    "run_on_worker",
]

#: Frames up to this many bytes travel with the task; larger ones go through storage.
SHIP_THRESHOLD = 64 * 1024 * 1024


def threshold_from_env() -> int:
    """``GLACIER_SHIP_THRESHOLD`` (``64MB``, ``512K``, a number of bytes), else the default."""
    raw = os.environ.get("GLACIER_SHIP_THRESHOLD")
    if not raw:
        return SHIP_THRESHOLD
    text = raw.strip().upper().removesuffix("B")
    scale = {"K": 1024, "M": 1024**2, "G": 1024**3}.get(text[-1:], 1)
    return int(float(text.rstrip("KMG")) * scale)


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


def pack(df: pl.DataFrame, lazy: bool, threshold: int, staging: str) -> Shipped | Staged:
    """``df`` ready to travel: inline up to ``threshold`` bytes, else staged under ``staging``."""
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


def _inline_one(item: Any) -> Any:
    if isinstance(item, pl.LazyFrame):
        return Shipped(item.collect(), True)
    if isinstance(item, pl.DataFrame):
        return Shipped(item, False)
    return item


def inline(value: Any) -> Any:
    """Every frame inside ``value`` materialised to travel with the call (nothing staged)."""
    return rebuild(value, _inline_one)


def unpack(value: Any) -> Any:
    """Open every shipped or staged frame inside ``value`` (nested containers too)."""
    return rebuild(value, lambda item: item.open() if isinstance(item, (Shipped, Staged)) else item)


def run_on_worker(
    task: Task,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    threshold: int,
    staging: str,
    into: Any = None,
    describe: Any = None,
) -> Any:
    """What the other process runs: the task's function once (retries are the caller's),
    with lazy outputs collected here. With ``into`` the frame is written there and
    only its row count comes back. With ``describe`` (lineage on: a
    :class:`glacier.lineage.remote.Describer`) the value comes back wrapped with the
    lineage read from the plans here."""
    args, kwargs = unpack(args), unpack(kwargs)
    if task.frame_params:
        args, kwargs = task.convert_inputs(args, kwargs)
    if describe is None:
        return _travel(task, task.check_output(task.fn(*args, **kwargs)), threshold, staging, into)
    with describe.watching() as writes:
        result = task.check_output(task.fn(*args, **kwargs))
        value = _travel(task, result, threshold, staging, into)
    return describe(value, result, args, kwargs, writes)


def _travel(task: Task, result: Any, threshold: int, staging: str, into: Any) -> Any:
    """What travels back for one call's ``result``."""
    if into is not None:
        if not isinstance(result, (pl.DataFrame, pl.LazyFrame)):
            raise TypeError(f"{task.name}.map(into=...) needs {task.name} to return a polars frame")
        df = result.collect() if isinstance(result, pl.LazyFrame) else result
        into.write(df)
        return df.height
    if isinstance(result, pl.LazyFrame):
        return pack(result.collect(), True, threshold, staging)
    if isinstance(result, pl.DataFrame):
        return pack(result, False, threshold, staging)
    return result
