"""Executor features that need no cluster: per-task timeouts in this process, maps outside Dask."""

from __future__ import annotations

import threading

import polars as pl
import pytest

from glacier import PipelineError, pipeline
from glacier.errors import DefinitionError, StorageError


@pytest.fixture
def provider(local_provider):
    for i in range(3):
        local_provider.bucket(bucket="raw", path=f"parts/p{i}.csv").write(pl.DataFrame({"n": [i, i + 10]}))
    return local_provider


def test_timeout_in_this_process(provider):
    ex = provider.local()

    release = threading.Event()
    returned: list[bool] = []  # the blocked call, once it is let go

    @ex.task(timeout=0.3)
    def slow(block: bool) -> int:
        if block:
            release.wait(60)
            returned.append(block)
        return 1

    @pipeline(name="slow_local")
    def slow_local(block: bool = True):
        return slow(block)

    try:
        with pytest.raises(PipelineError, match=r"slow: ran [\d.]+ s, timeout is 0.3 s \(in this process\)"):
            slow_local.run(mode="local")
        assert returned == []  # run() gave up at the timeout; the call is still blocked
    finally:
        release.set()
    assert slow_local.last_run.tasks["slow"].error.startswith("TaskTimeoutError")
    assert slow_local.run(mode="local", block=False) == 1


def test_map_in_local_mode_and_outside_a_pipeline(provider):
    ex = provider.local()
    parts = provider.bucket(bucket="raw", path="parts/*.csv")
    out = provider.bucket(bucket="curated", path="doubled")

    @ex.task()
    def double(part) -> pl.LazyFrame:
        return part.scan().with_columns(pl.col("n") * 2)

    @pipeline(name="doubles")
    def doubles():
        return double.map(parts), double.map(parts, into=out)

    combined, dataset = doubles.run(mode="local")
    assert combined.collect()["n"].to_list() == [0, 20, 2, 22, 4, 24]
    assert sorted(dataset.collect()["n"].to_list()) == [0, 2, 4, 20, 22, 24]
    assert (
        len(
            list(
                (provider.bucket(bucket="curated", path="doubled/part-*.parquet")).fs.glob(
                    out.get_uri() + "/part-*.parquet"
                )
            )
        )
        == 3
    )
    assert [n.id for n in doubles.graph.nodes.values()] == ["double", "double_2"]
    direct = double.map(parts)  # outside a pipeline: runs here, now
    assert direct.collect().height == 6


def test_map_errors_are_clear(provider):
    ex = provider.local()

    @ex.task()
    def ident(part) -> pl.LazyFrame:
        return part.scan()

    with pytest.raises(StorageError, match="no partitions at"):
        ident.map(provider.bucket(bucket="raw", path="nothing/*.parquet"))
    with pytest.raises(DefinitionError, match="maps over the files of a bucket"):
        ident.map(pl.DataFrame({"a": [1]}))
