"""Reading and writing frames: polars for the formats, fsspec for the bytes.

Writes are atomic: a reader sees the old object or the whole new one, never a
part, and a failure (a bad plan, a dropped connection) leaves the old object as
it was.

- On the local disk the frame is written to a temporary file in a staging folder no
  reader lists (``<base_path>/.glacier/staging``, same device), then renamed over the
  target with ``os.replace``; a partitioned dataset is swapped in with one atomic exchange.
- On an object store polars serialises straight into a streaming upload
  (``glacier.storage.upload``) that the store publishes only when it is
  completed, and that is aborted on failure. fsspec's buffered
  ``open(..., "wb")`` is not used as a context manager: its ``__exit__``
  commits whatever was written even when the block raised.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import hashlib
import os
import re
import shutil
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import polars as pl

from glacier.errors import StorageError
from glacier.storage.formats import SUFFIX

__all__ = [
    "SCANNERS",
    "HIVE_NULL",
    "scan",
    "read_bytes",
    "serialise",
    "write_local",
    "staged",
    "sweep",
    "exchange",
    "write_partitioned_local",
    "partition_files",
    "partitions",
]

SCANNERS: dict[str, Callable[..., pl.LazyFrame]] = {
    "parquet": pl.scan_parquet,
    "csv": pl.scan_csv,
    "ndjson": pl.scan_ndjson,
    "ipc": pl.scan_ipc,
}
_READERS: dict[str, Callable[..., pl.DataFrame]] = {
    "parquet": pl.read_parquet,
    "csv": pl.read_csv,
    "ndjson": pl.read_ndjson,
    "ipc": pl.read_ipc,
}
#: Folder name polars (and Hive) use for a null partition value.
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
#: Formats whose polars scanners read hive-partitioned folders themselves.
HIVE_NATIVE = frozenset({"parquet", "ipc"})


def scan(
    source: Any,
    fmt: str,
    *,
    storage_options: dict[str, Any] | None = None,
    hive: bool | None = None,
    **kwargs: Any,
) -> pl.LazyFrame:
    """Lazily scan ``source`` (a path, URI, glob or list of them) in format ``fmt``."""
    if storage_options:
        kwargs["storage_options"] = storage_options
    if fmt in HIVE_NATIVE and "hive_partitioning" not in kwargs:
        kwargs["hive_partitioning"] = hive
    return SCANNERS[fmt](source, **kwargs)


def read_bytes(data: bytes | Any, fmt: str, **kwargs: Any) -> pl.DataFrame:
    """Read one object's bytes (or a file object) in format ``fmt``."""
    return _READERS[fmt](data, **kwargs)


def _write(df: pl.DataFrame, target: Any, fmt: str) -> None:
    getattr(df, f"write_{fmt}")(target)  # write_parquet, write_csv, write_ndjson, write_ipc


def _sink(lf: pl.LazyFrame, target: Any, fmt: str, *, lazy: bool = False) -> Any:
    # sink_parquet, ... : streams, never all in memory; lazy=True: a plan for collect_all
    return getattr(lf, f"sink_{fmt}")(target, lazy=lazy)


def serialise(frame: pl.DataFrame | pl.LazyFrame, target: str | Path | IO[bytes], fmt: str) -> int | None:
    """Write ``frame`` to the local file or binary stream ``target``; return the rows when known.

    A ``LazyFrame`` is streamed (``sink_*``), so it never has to fit in memory. Inside a
    deferred write (:mod:`glacier.storage.deferred`) the sink joins the run's collection.
    """
    from glacier.storage.deferred import sink_or_wait

    dest: Any = str(target) if isinstance(target, str | Path) else target
    if isinstance(frame, pl.LazyFrame):
        sink_or_wait(lambda: _sink(frame, dest, fmt, lazy=True), lambda: _sink(frame, dest, fmt))
        return None
    _write(frame, dest, fmt)
    return frame.height


@contextmanager
def staged(staging: Path, name: str, *, folder: bool = False) -> Iterator[Path]:
    """A temporary path in a private box under ``staging`` (on the target's device).

    ``staging`` is a folder no reader lists (``<base_path>/.glacier/staging``). The box is
    named for this process, so the next write anywhere under the same base path removes
    it if this process is killed; it is removed at the end either way (polars' sinks can
    still create their file just after they raised, and a file cannot appear in a folder
    that is gone).
    """
    sweep(staging)
    box = staging / f"glacier-tmp-{os.getpid()}-{uuid.uuid4().hex[:12]}-{_host()}"
    box.mkdir(parents=True)
    tmp = box / name
    try:
        if folder:
            tmp.mkdir()
        yield tmp
    finally:
        for _ in range(50):  # a late write can refill the folder while it is being removed
            shutil.rmtree(box, ignore_errors=True)
            if not box.exists():
                break
            time.sleep(0.01)


_BOX = re.compile(r"glacier-tmp-(\d+)-[0-9a-f]{12}-([0-9a-f]{8})")
#: A box of another machine (a shared base path) is stale after this long.
STALE_AFTER = 24 * 3600.0


def sweep(staging: Path) -> int:
    """Remove the boxes under ``staging`` whose writer is gone; return how many.

    A box of this machine is stale when its process no longer runs; one of another
    machine when it is older than :data:`STALE_AFTER`.
    """
    try:
        entries = list(os.scandir(staging))
    except FileNotFoundError:
        return 0
    removed = 0
    for entry in entries:
        match = _BOX.fullmatch(entry.name)
        if match is None:
            continue
        pid, host = int(match.group(1)), match.group(2)
        try:
            old = time.time() - entry.stat(follow_symlinks=False).st_mtime > STALE_AFTER
        except FileNotFoundError:
            continue
        mine = host == _host() and os.name != "nt"  # a process of this machine: ask whether it runs
        if (mine and not _running(pid)) or (not mine and old):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed += 1
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


@functools.cache
def _host() -> str:
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]


def exchange(new: Path, target: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2``, macOS ``renamex_np``).

    Returns ``False`` where the system has no such call; the caller then renames twice.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:  # pragma: no cover - Windows
        return False
    src, dst = os.fsencode(new), os.fsencode(target)
    if hasattr(libc, "renameat2"):
        done = libc.renameat2(_AT_FDCWD, src, _AT_FDCWD, dst, _RENAME_EXCHANGE)
    elif hasattr(libc, "renamex_np"):  # pragma: no cover - macOS
        done = libc.renamex_np(src, dst, _RENAME_SWAP)
    else:  # pragma: no cover
        return False
    if done == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):  # pragma: no cover - old kernel or file system
        return False
    raise OSError(err, os.strerror(err), str(target))


_AT_FDCWD, _RENAME_EXCHANGE, _RENAME_SWAP = -100, 2, 2


def write_local(frame: pl.DataFrame | pl.LazyFrame, path: str, fmt: str, staging: Path) -> int | None:
    """Atomically write ``frame`` to the local ``path``; return the rows written when known."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir():
        raise StorageError(f"cannot write {path}: it is a folder (a partitioned dataset); delete it first")
    with staged(staging, "data") as tmp:
        rows = serialise(frame, tmp, fmt)
        os.replace(tmp, target)
    return rows


def partitions(
    frame: pl.DataFrame | pl.LazyFrame, fmt: str, partition_by: list[str]
) -> list[tuple[str, pl.DataFrame]]:
    """Split ``frame`` into Hive partitions: ``("year=2024/part-0.parquet", rows)`` pairs.

    The partition columns are kept in the folder names only, as Hive does.
    """
    df = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    missing = [c for c in partition_by if c not in df.columns]
    if missing:
        raise StorageError(
            f"cannot partition by {missing}: no such column (the frame has {', '.join(df.columns)})"
        )
    out: list[tuple[str, pl.DataFrame]] = []
    groups = df.partition_by(partition_by, as_dict=True, maintain_order=True, include_key=False)
    for key, part in sorted(groups.items(), key=lambda item: [str(v) for v in item[0]]):
        folder = "/".join(
            f"{col}={HIVE_NULL if value is None else _hive_value(value)}"
            for col, value in zip(partition_by, key, strict=True)
        )
        out.append((f"{folder}/part-0{SUFFIX[fmt]}", part))
    return out


def partition_files(
    frame: pl.DataFrame | pl.LazyFrame, root: Path, fmt: str, partition_by: list[str]
) -> list[str]:
    """Write ``frame`` as a Hive-partitioned dataset under the local folder ``root``.

    Returns the relative paths written (``"year=2024/part-0.parquet"`` ...).
    """
    written: list[str] = []
    for rel, part in partitions(frame, fmt, partition_by):
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        _write(part, str(dest), fmt)
        written.append(rel)
    return written


def _hive_value(value: Any) -> str:
    from urllib.parse import quote

    return quote(str(value), safe="-_.~ :")


def write_partitioned_local(
    frame: pl.DataFrame | pl.LazyFrame, path: str, fmt: str, partition_by: list[str], staging: Path
) -> list[str]:
    """Atomically replace the local folder ``path`` by a partitioned dataset.

    The new dataset is built in a staging box, then swapped with the old one in one
    atomic step (:func:`exchange`), so a reader finds the old dataset or the new one at
    ``path``, never nothing; where the system cannot swap, two renames leave a gap of
    microseconds.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_file():
        raise StorageError(f"cannot write a partitioned dataset at {path}: a file is there; delete it first")
    with staged(staging, "data", folder=True) as tmp:
        written = partition_files(frame, tmp, fmt, partition_by)
        if not target.exists():
            os.replace(tmp, target)
        elif not exchange(tmp, target):  # the old dataset goes into the box, removed with it
            os.replace(target, tmp.parent / "old")
            os.replace(tmp, target)
    return written
