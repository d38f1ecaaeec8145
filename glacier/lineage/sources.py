"""Naming the leaves of a task's plan: the buckets of the pipeline, files, upstream outputs.

- A file scan is the bucket whose location holds its files (the longest match), else the
  output of the upstream task that is a scan of those very files (a deployed task's inputs,
  staged between invocations), else the dataset its path names by the spec (one dataset per
  scan: the folder of its files).
- A Glacier IO source (the fsspec scan used for GCS) is named by the files it reads.
- An in-memory frame is an upstream task's output when it *is* that output (the same
  buffers: a materialised, cached or shipped frame); any other in-memory frame has no name,
  and its columns say so.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import polars as pl

from glacier.lineage import naming
from glacier.lineage.naming import DatasetId
from glacier.lineage.plan import Leaf

if TYPE_CHECKING:
    from glacier.resources.bucket import Bucket

__all__ = ["Sources", "bucket_key", "frame_of", "same_data", "FRAME_UNKNOWN"]

FRAME_UNKNOWN = (
    "an in-memory DataFrame (made inside a task, read eagerly or restored from a cache): polars "
    "keeps no record of where its data came from"
)


def _bare(uri: str) -> str:
    """A location comparable across spellings: absolute local paths, remote without scheme."""
    if "://" not in uri:
        return os.path.abspath(uri)
    return uri.split("://", 1)[1]


def bucket_key(bucket: Bucket) -> str:
    """The part of a bucket's location before any glob character."""
    uri = bucket.get_uri()
    for i, char in enumerate(uri):
        if char in "*?[":
            uri = uri[:i].rsplit("/", 1)[0]
            break
    return _bare(uri).rstrip("/")


def frame_of(value: Any) -> pl.DataFrame | None:
    """The DataFrame a value holds: itself, or the frame a ``df.lazy()`` plan scans."""
    if isinstance(value, pl.DataFrame):
        return value
    if isinstance(value, pl.LazyFrame):
        try:
            nt = value._ldf.visit()
            view = nt.view_current_node()
        except Exception:
            return None
        if type(view).__name__ == "DataFrameScan" and view.projection is None:
            return pl.DataFrame._from_pydf(view.df)
    return None


def _pointer(frame: pl.DataFrame, name: str) -> int | None:
    """Where the first chunk of a numeric column lives (no copy is made)."""
    try:
        return int(frame.get_column(name).get_chunks()[0]._s.as_single_ptr())
    except Exception:
        return None


def same_data(a: pl.DataFrame, b: pl.DataFrame) -> bool:
    """Whether two frames share their data (not merely equal values).

    A plan's in-memory leaf stands a column the plan does not use in for an empty struct:
    only the columns both frames really hold are compared.
    """
    if a.columns != b.columns or a.height != b.height:
        return False
    both = [n for n in a.columns if a.schema[n] == b.schema[n] and a.schema[n] != pl.Struct({})]
    if not both:
        return False
    for name in both:
        if a.schema[name].is_numeric():
            return a.height == 0 or _pointer(a, name) == _pointer(b, name) is not None
    return a.height <= 100_000 and a.select(both).equals(b.select(both))


class Sources:
    """Resolves the leaves of one task's plan (see the module docstring)."""

    def __init__(
        self,
        buckets: Iterable[tuple[Bucket, DatasetId]],
        upstream: dict[DatasetId, Any],
        *,
        keys: Iterable[tuple[str, DatasetId]] = (),
    ) -> None:
        known = [*((bucket_key(b), d) for b, d in buckets), *keys]
        self.buckets = sorted(known, key=lambda kv: -len(kv[0]))
        self.upstream = upstream
        self._frames: dict[DatasetId, pl.DataFrame | None] = {}
        self._scans: dict[str, DatasetId] | None = None

    def __call__(self, leaf: Leaf) -> DatasetId | str:
        if leaf.kind == "scan" and leaf.paths:
            return self.files(list(leaf.paths))
        if leaf.kind == "python":
            paths = _glacier_io_paths(leaf.function)
            if paths:
                return self.files(paths, schemeless=True)
            return "a Python IO source (register_io_source) whose files polars does not record"
        if leaf.kind == "frame" and leaf.frame is not None:
            for dataset, value in self.upstream.items():
                if dataset not in self._frames:
                    self._frames[dataset] = frame_of(value)
                held = self._frames[dataset]
                if held is not None and same_data(held, leaf.frame):
                    return dataset
            return FRAME_UNKNOWN
        return f"a plan leaf Glacier cannot name ({leaf.kind})"

    def scanned(self) -> dict[str, DatasetId]:
        """Files read by upstream outputs that are plain scans -> those outputs' datasets."""
        if self._scans is None:
            self._scans = {_bare(p): d for d, v in self.upstream.items() for p in scan_paths(v)}
        return self._scans

    def files(self, paths: list[str], *, schemeless: bool = False) -> DatasetId | str:
        """The dataset of a scan's files (``schemeless``: fsspec paths, ``bucket/key``)."""
        bare = [p.lstrip("/") if schemeless else _bare(p) for p in paths]
        for key, dataset in self.buckets:
            if all(p == key or p.startswith(key + "/") for p in bare):
                return dataset
        if not schemeless:
            scanned = self.scanned()
            owners = {scanned[p] for p in bare if p in scanned}
            if len(owners) == 1 and all(p in scanned for p in bare):
                return owners.pop()
        found = None if schemeless else naming.from_uri(naming.common_folder(paths))
        if found is None:
            return f"files at {naming.common_folder(paths)!r}, a store the OpenLineage naming spec has no name for"
        return found


def scan_paths(value: Any) -> list[str]:
    """The files a ``LazyFrame`` that is one plain scan reads (a staged upstream output)."""
    if not isinstance(value, pl.LazyFrame):
        return []
    try:
        view = value._ldf.visit().view_current_node()
    except Exception:
        return []
    return list(view.paths) if type(view).__name__ == "Scan" else []


def _glacier_io_paths(function: Any) -> list[str]:
    """The files of Glacier's fsspec scan, from polars' IO-plugin wrapper around it."""
    try:
        for inner in inspect.getclosurevars(function).nonlocals.values():
            if callable(inner) and getattr(inner, "__module__", "") == "glacier.storage.fsspec_scan":
                paths = inspect.getclosurevars(inner).nonlocals.get("paths")
                if isinstance(paths, list) and all(isinstance(p, str) for p in paths):
                    return paths
    except (TypeError, ValueError):
        return []
    return []
