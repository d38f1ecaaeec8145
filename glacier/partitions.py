"""The partitions of a map: ``task.map(bucket)`` runs a task once per file of a bucket.

Inside a pipeline, ``score.map(raw)`` records ONE node (named after the task) whose
value is the combined result; with ``mode="distributed"`` and a Dask executor every
partition is its own Dask task, run in parallel on the workers, which read their
partition themselves. ``into=`` writes each partition's output as one file of a
partitioned dataset instead of bringing the data back.

Examples
--------
>>> raw = provider.bucket(bucket="raw", path="events/*.parquet")  # doctest: +SKIP
>>> out = provider.bucket(bucket="curated", path="scored")  # doctest: +SKIP
>>> @pipeline(name="score_all")  # doctest: +SKIP
... def score_all():
...     return score.map(raw, into=out)
"""

from __future__ import annotations

import os
from typing import Any

import polars as pl

from glacier.errors import DefinitionError, StorageError
from glacier.resources.bucket import Bucket

__all__ = ["partitions", "output_part", "dataset", "combine", "clear_into"]


def partitions(source: Any) -> list[Bucket]:
    """The files of ``source`` (a bucket with a glob or folder path), sorted, one bucket each."""
    if isinstance(source, (list, tuple)):
        return [p for item in source for p in partitions(item)]
    if not isinstance(source, Bucket):
        raise DefinitionError(
            f"task.map(source) maps over the files of a bucket (a glob such as 'raw/*.parquet' or a folder), "
            f"not {type(source).__name__}"
        )
    uri = source.get_uri()
    rel = source.ls()
    if not rel:
        raise StorageError(
            f"no partitions at {uri}: map needs at least one file (a glob or a folder of files)"
        )
    return [Bucket(source.provider, source.bucket, r, config=source.config) for r in rel]


def output_part(into: Bucket, part: Bucket, index: int) -> Bucket:
    """Where partition ``index``'s output goes in ``into``: ``part-00003-<stem>.parquet``."""
    stem = os.path.splitext(os.path.basename(part.path))[0]
    return into / f"part-{index:05d}-{stem}.parquet"


def dataset(into: Bucket) -> pl.LazyFrame:
    """A LazyFrame over the partitioned dataset written into ``into``."""
    return (into / "part-*.parquet").scan()


def combine(results: list[Any]) -> Any:
    """Frames are concatenated (lazily when any is lazy); anything else comes back as a list."""
    if results and all(isinstance(r, pl.LazyFrame) for r in results):
        return pl.concat(results, how="vertical_relaxed")
    if results and all(isinstance(r, (pl.DataFrame, pl.LazyFrame)) for r in results):
        frames = [r.collect() if isinstance(r, pl.LazyFrame) else r for r in results]
        return pl.concat(frames, how="vertical_relaxed")
    return results


def clear_into(into: Bucket) -> None:
    """Remove earlier ``part-*`` files so the dataset holds exactly this run's partitions."""
    (into / "part-*.parquet").delete()
