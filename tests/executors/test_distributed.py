"""mode="distributed" on a real Dask LocalCluster: same results as local, partition maps,
dead workers and retries, timeouts, staging at executor boundaries, Ctrl-C."""

from __future__ import annotations

import importlib
import os
import signal
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import polars as pl
import pytest

from glacier import PipelineError, Provider, pipeline
from glacier.config import DaskConfig, LambdaConfig, LocalConfig
from glacier.errors import DeploymentRequiredError
from tests.helpers import interrupt_when

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def build(base: Path, address: str | None, n_workers: int = 2) -> SimpleNamespace:
    """Example 2 of the design document with its cluster task on Dask, plus a few extras."""
    provider = Provider(config=LocalConfig(base_path=str(base)))
    local_exec = provider.local()
    dask_exec = provider.cluster(config=DaskConfig(address=address, n_workers=n_workers))
    raw = provider.bucket(bucket="lake", path="raw/data.parquet")
    parts = provider.bucket(bucket="lake", path="parts/*.parquet")
    scored = provider.bucket(bucket="lake", path="scored")
    marker = base / "attempts"

    @local_exec.task()
    def extract(source) -> pl.LazyFrame:
        return source.scan()

    @dask_exec.task()
    def clean(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.filter(pl.col("value").is_not_null())

    @dask_exec.task()
    def ml_predict(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.with_columns(pl.lit(0.9).alias("prediction"), pl.lit(os.getpid()).alias("pid"))

    @dask_exec.task()
    def score(part) -> pl.LazyFrame:
        time.sleep(0.05)
        return part.scan().with_columns(
            (pl.col("value") * 2).alias("double"), pl.lit(os.getpid()).alias("pid")
        )

    @pipeline(name="ml_inference")
    def ml_pipeline():
        return ml_predict(clean(extract(raw)))

    @pipeline(name="score_all")
    def score_all():
        return score.map(parts)

    @pipeline(name="score_into")
    def score_into():
        return score.map(parts, into=scored)

    def dying(retries: int):
        @dask_exec.task(name="dies_once", retries=retries, retry_delay=0.05)
        def dies_once(df: pl.LazyFrame) -> pl.LazyFrame:
            marker.mkdir(exist_ok=True)
            if not any(marker.iterdir()):
                (marker / str(os.getpid())).touch()
                os.kill(os.getpid(), signal.SIGKILL)  # the worker process dies mid-task
            return df.with_columns(pl.lit(1).alias("survived"))

        @pipeline(name=f"killer_{retries}")
        def killer():
            return dies_once(extract(raw))

        return killer

    @dask_exec.task(timeout=0.5)
    def slow(df: pl.LazyFrame, seconds: float) -> pl.LazyFrame:
        time.sleep(seconds)
        return df

    @dask_exec.task()
    def held(df: pl.LazyFrame, gate: str) -> pl.LazyFrame:
        """Marks ``started`` in ``gate``, then runs until the test creates ``open`` there (a minute
        at most: a worker thread is never held longer), then marks ``finished``."""
        Path(gate, "started").touch()
        for _ in range(600):
            if Path(gate, "open").exists():
                break
            time.sleep(0.1)
        Path(gate, "finished").touch()
        return df

    @pipeline(name="long")
    def long_pipeline(gate: str):
        return held(extract(raw), gate)

    @dask_exec.task(timeout=60)
    def patient(df: pl.LazyFrame, seconds: float) -> pl.LazyFrame:
        time.sleep(seconds)
        return df

    @pipeline(name="patient")
    def patient_pipeline(seconds: float = 0.2):
        return patient(extract(raw), seconds)

    @dask_exec.task(cache=True)
    def cached_predict(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.with_columns(pl.lit(0.5).alias("prediction"))

    @pipeline(name="cached_ml")
    def cached_ml():
        return cached_predict(extract(raw))

    @pipeline(name="slow")
    def slow_pipeline(seconds: float = 10.0):
        return slow(extract(raw), seconds)

    raw.write(pl.DataFrame({"id": [1, 2, 3, 4], "value": [1.5, None, 3.0, None]}))
    for i in range(8):
        (provider.bucket(bucket="lake", path=f"parts/p{i}.parquet")).write(
            pl.DataFrame({"part": [i] * 5, "value": [float(i * 10 + j) for j in range(5)]})
        )
    return SimpleNamespace(**locals())


@pytest.fixture(scope="module")
def ns(tmp_path_factory, dask_address):
    return build(tmp_path_factory.mktemp("dist"), dask_address)


def test_example2_variant_matches_local(ns):
    distributed = ns.ml_pipeline.run(mode="distributed").collect()
    local = ns.ml_pipeline.run(mode="local").collect()
    assert distributed.drop("pid").equals(local.drop("pid"))
    assert distributed["id"].to_list() == [1, 3]
    assert os.getpid() not in distributed["pid"].to_list()  # really ran on a worker
    assert os.getpid() in local["pid"].to_list()
    record = ns.ml_pipeline.last_run
    assert record.status == "done"


def test_partitioned_map_over_eight_files(ns):
    out = ns.score_all.run(mode="distributed").collect()
    assert out.height == 40
    assert sorted(out["part"].unique().to_list()) == list(range(8))
    assert out["double"].to_list() == [v * 2 for v in out["value"].to_list()]
    pids = set(out["pid"].to_list())
    assert os.getpid() not in pids
    assert len(pids) == 2  # both workers took partitions
    local = ns.score_all.run(mode="local").collect()
    assert local.drop("pid").equals(out.drop("pid"))


def test_partitioned_map_writes_a_dataset(ns):
    out = ns.score_into.run(mode="distributed").collect()
    files = sorted(p.name for p in Path(ns.scored.get_uri()).iterdir())
    assert files == [f"part-{i:05d}-p{i}.parquet" for i in range(8)]
    assert out.height == 40
    assert out.sort("value")["double"].to_list() == sorted(v * 2 for v in out["value"].to_list())


def test_killed_worker_is_retried(ns):
    killer = ns.dying(retries=1)
    out = killer.run(mode="distributed").collect()
    assert out["survived"].to_list() == [1, 1, 1, 1]
    task = killer.last_run.tasks["dies_once"]
    assert task.status == "done"
    assert task.attempts == 2


def test_killed_worker_without_retries_fails_clearly(ns):
    for f in ns.marker.glob("*"):
        f.unlink()
    killer = ns.dying(retries=0)
    with pytest.raises(PipelineError, match=r"dies_once: the Dask worker running it died \(after 1 attempt"):
        killer.run(mode="distributed")
    assert killer.last_run.tasks["extract"].status == "done"
    assert killer.last_run.tasks["dies_once"].status == "failed"


def test_large_frames_go_through_staging(ns, tmp_path, monkeypatch):
    monkeypatch.setenv("GLACIER_SHIP_THRESHOLD", "1")  # every frame is "large"
    monkeypatch.setenv("GLACIER_STAGING", str(tmp_path / "staging"))
    out = ns.ml_pipeline.run(mode="distributed").collect()
    assert out["id"].to_list() == [1, 3]
    assert not any((tmp_path / "staging").glob("*/*.arrow"))  # the run's files are removed


def test_cached_dask_output_outlives_staging(ns, tmp_path, monkeypatch, cache_dir):
    monkeypatch.setenv("GLACIER_SHIP_THRESHOLD", "1")  # the worker's output is staged
    monkeypatch.setenv("GLACIER_STAGING", str(tmp_path / "staging"))
    first = ns.cached_ml.run(mode="distributed").collect()
    assert ns.cached_ml.last_run.cache_hits == []
    again = ns.cached_ml.run(mode="distributed").collect()  # the staged file is gone by now
    assert ns.cached_ml.last_run.cache_hits == ["cached_predict"]
    assert again.equals(first) and first.height == 4


def test_timeout_on_dask(ns):
    with pytest.raises(PipelineError, match=r"slow: ran [\d.]+ s, timeout is 0.5 s"):
        ns.slow_pipeline.run(mode="distributed", seconds=2.0)
    assert ns.slow_pipeline.last_run.tasks["slow"].error.startswith("TaskTimeoutError")
    # within its timeout (the clock runs from submission: a generous one on a busy machine)
    assert ns.patient_pipeline.run(mode="distributed", seconds=0.2).collect().height == 4
    assert ns.patient_pipeline.last_run.tasks["patient"].status == "done"


def test_example2_dask_variant(tmp_path, monkeypatch, dask_address, capsys):
    monkeypatch.setenv("GLACIER_EXAMPLE_DIR", str(tmp_path))
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", dask_address)
    monkeypatch.syspath_prepend(str(EXAMPLES))
    sys.modules.pop("example2_dask", None)
    example = importlib.import_module("example2_dask")
    try:
        example.main()
    finally:
        sys.modules.pop("example2_dask", None)
    assert "same result with mode='local' and mode='distributed'" in capsys.readouterr().out
    record = example.ml_pipeline.last_run
    assert record.mode == "distributed" and record.status == "done"
    assert (tmp_path / "data-lake" / "features" / "predictions.parquet").exists()


def test_ctrl_c_cancels_running_futures(ns, dask_address, tmp_path):
    from distributed import Client

    pressed = interrupt_when(tmp_path / "started")  # Ctrl-C once the call runs on a worker
    try:
        with pytest.raises(KeyboardInterrupt):
            ns.long_pipeline.run(mode="distributed", gate=str(tmp_path))
        # not stuck behind the cancelled call: the run ended while the call was still held
        assert not (tmp_path / "finished").exists()
    finally:
        (tmp_path / "open").touch()  # let the worker thread go
        pressed.join()
    record = ns.long_pipeline.last_run
    assert record.status == "cancelled"
    assert record.tasks["extract"].status == "done"  # what finished stays finished
    assert record.tasks["held"].status == "failed"
    assert "cancelled" in record.tasks["held"].error
    with Client(dask_address, set_as_default=False) as client:
        deadline = time.monotonic() + 5
        while any(client.processing().values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(client.processing().values())


def test_cloud_executors_fail_fast(local_provider):
    lam = local_provider.serverless(config=LambdaConfig(memory=512))
    ran = []

    @lam.task()
    def step() -> int:
        ran.append(1)
        return 1

    @pipeline(name="needs_lambda")
    def needs_lambda():
        return step()

    with pytest.raises(DeploymentRequiredError, match="Terraform|terraform"):
        needs_lambda.run(mode="distributed")
    assert ran == []


def test_own_local_cluster_is_started_and_closed(tmp_path):
    ns = build(tmp_path, None, n_workers=1)
    out = ns.ml_pipeline.run(mode="distributed").collect()
    assert out["id"].to_list() == [1, 3]
    assert os.getpid() not in out["pid"].to_list()
