"""Reading and writing frames: polars for the formats, fsspec for the bytes.

Writes are atomic: a local write goes to a temporary file in the same folder
and is renamed over the target; an object-store write is one object PUT (or a
multipart upload completed only on success), so readers see the old object or
the whole new one, never a part.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from glacier.errors import StorageError

__all__ = ["scan", "write_frame", "write_local", "SCANNERS"]

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


def scan(
    source: Any, fmt: str, *, storage_options: dict[str, Any] | None = None, **kwargs: Any
) -> pl.LazyFrame:
    """Lazily scan ``source`` (a path, URI or glob) in format ``fmt``."""
    if storage_options:
        kwargs["storage_options"] = storage_options
    if fmt == "parquet" and "hive_partitioning" not in kwargs:
        kwargs["hive_partitioning"] = None
    return SCANNERS[fmt](source, **kwargs)


def read_bytes(data: bytes | Any, fmt: str) -> pl.DataFrame:
    """Read one object's bytes (or a file object) in format ``fmt``."""
    return _READERS[fmt](data)


def _write(df: pl.DataFrame, target: Any, fmt: str) -> None:
    if fmt == "parquet":
        df.write_parquet(target)
    elif fmt == "csv":
        df.write_csv(target)
    elif fmt == "ndjson":
        df.write_ndjson(target)
    elif fmt == "ipc":
        df.write_ipc(target)
    else:  # pragma: no cover - format_of guards this
        raise StorageError(f"cannot write format {fmt!r}")


def _sink(lf: pl.LazyFrame, target: str, fmt: str) -> None:
    if fmt == "parquet":
        lf.sink_parquet(target)
    elif fmt == "csv":
        lf.sink_csv(target)
    elif fmt == "ndjson":
        lf.sink_ndjson(target)
    else:
        lf.sink_ipc(target)


def write_local(frame: pl.DataFrame | pl.LazyFrame, path: str, fmt: str) -> int | None:
    """Atomically write ``frame`` to the local ``path``; return the rows written when known."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.glacier-tmp-{uuid.uuid4().hex[:12]}"
    rows: int | None = None
    try:
        if isinstance(frame, pl.LazyFrame):
            _sink(frame, str(tmp), fmt)
        else:
            _write(frame, str(tmp), fmt)
            rows = frame.height
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return rows


def write_frame(frame: pl.DataFrame | pl.LazyFrame, fs: Any, uri: str, fmt: str, **open_kwargs: Any) -> int:
    """Write ``frame`` to an object store through ``fs`` as one object.

    The frame is serialised in memory first and uploaded with a single
    ``open(..., "wb")`` whose object appears only when the upload completes.
    """
    df = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    with fs.open(uri, "wb", **open_kwargs) as fh:
        _write(df, fh, fmt)
    return df.height
