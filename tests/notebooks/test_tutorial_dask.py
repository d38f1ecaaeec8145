"""Tutorial 03's Dask pattern: a ``LocalCluster`` started in the notebook, used through
``DaskConfig(address=...)``, closed at the end. No Glacier client outlives it (Dask would
log "Failed to reconnect to scheduler" 30 s later), and a frame of a few MB sent to a task
is not put inside the task graph (Dask's "large graph" warning)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import dask
import polars as pl
import pytest

from glacier import Provider, pipeline
from glacier.config import DaskConfig, LocalConfig

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0"
    ) as c:
        yield c


def _pipeline(tmp_path, address: str):
    provider = Provider(config=LocalConfig(base_path=str(tmp_path / "data")))
    local = provider.local()
    on_dask = provider.cluster(config=DaskConfig(address=address))

    @local.task()
    def make(n: int) -> pl.LazyFrame:
        return pl.DataFrame({"x": pl.int_range(0, n, eager=True)}).lazy()

    @on_dask.task()
    def double(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.with_columns(y=pl.col("x") * 2)

    @pipeline(name="on_dask")
    def on_dask_pipeline(n: int = 10):
        return double(make(n))

    return on_dask_pipeline


def _open_clients() -> list[object]:
    return [c for c in list(distributed.Client._instances) if c.status not in ("closed", "closing")]


def test_no_client_outlives_a_cluster_of_this_machine(tmp_path, cluster) -> None:
    before = set(map(id, _open_clients()))
    run = _pipeline(tmp_path, cluster.scheduler_address)
    assert run.run(mode="distributed", progress=False).collect()["y"].to_list()[:3] == [0, 2, 4]
    assert [c for c in _open_clients() if id(c) not in before] == []


def test_a_frame_of_a_few_mb_travels_outside_the_task_graph(tmp_path, cluster) -> None:
    run = _pipeline(tmp_path, cluster.scheduler_address)
    n = 400_000  # 3.2 MB of int64: above the 1 MB warning threshold set below
    with dask.config.set({"distributed.admin.large-graph-warning-threshold": "1MB"}):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = run.run(mode="distributed", progress=False, n=n).collect()
    assert out.height == n and out["y"][-1] == 2 * (n - 1)
    assert not [w for w in caught if "large graph" in str(w.message).lower()], [
        str(w.message) for w in caught
    ]
