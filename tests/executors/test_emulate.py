"""run(mode="local", emulate=True): serverless tasks under their function's memory and timeout."""

from __future__ import annotations

import os
import re
import time
from types import SimpleNamespace

import polars as pl
import pytest

from glacier import PipelineError, Provider, pipeline
from glacier.config import LambdaConfig, LocalConfig
from tests.helpers import interrupt_when, mark_started, still_running


@pytest.fixture(scope="module")
def ns(tmp_path_factory):
    base = tmp_path_factory.mktemp("emulate")
    provider = Provider(config=LocalConfig(base_path=str(base)))
    local_exec = provider.local()
    lam = provider.serverless(config=LambdaConfig(memory=256, timeout=2))
    raw = provider.bucket(bucket="lake", path="raw/data.parquet")
    parts = provider.bucket(bucket="lake", path="parts")

    @local_exec.task()
    def extract(source) -> pl.LazyFrame:
        return source.scan()

    @lam.task()
    def clean(df: pl.LazyFrame, rows: int = 0, sleep: float = 0.0, marks: str = "") -> pl.LazyFrame:
        if marks:  # say which process runs it, and whether it finished its sleep
            mark_started(marks)
        time.sleep(sleep)
        if marks:
            open(os.path.join(marks, "finished"), "w").close()
        if rows:  # a big intermediate: `rows` int64 values and their double
            big = pl.int_range(0, rows, eager=True).to_frame("x").with_columns(y=pl.col("x") * 2)
            assert big.height == rows
        return df.filter(pl.col("value").is_not_null()).with_columns(pl.lit(os.getpid()).alias("pid"))

    @lam.task(timeout=1)
    def quick(df: pl.LazyFrame, sleep: float) -> pl.LazyFrame:
        time.sleep(sleep)
        return df

    @lam.task()
    def per_file(part) -> pl.LazyFrame:
        return part.scan().with_columns(pl.lit(os.getpid()).alias("pid"))

    @pipeline(name="clean_it")
    def clean_it(rows: int = 0, sleep: float = 0.0, marks: str = ""):
        return clean(extract(raw), rows, sleep, marks)

    @pipeline(name="quick_it")
    def quick_it(sleep: float = 0.0):
        return quick(extract(raw), sleep)

    @pipeline(name="per_file")
    def per_file_pipeline():
        return per_file.map(parts)

    raw.write(pl.DataFrame({"id": [1, 2, 3, 4], "value": [1.5, None, 3.0, None]}))
    for i in range(3):
        (parts / f"p{i}.parquet").write(pl.DataFrame({"part": [i, i]}))
    return SimpleNamespace(**locals())


def test_within_limits_runs_in_its_own_process(ns):
    out = ns.clean_it.run(mode="local", emulate=True).collect()
    assert out["id"].to_list() == [1, 3]
    assert out["pid"][0] != os.getpid()
    plain = ns.clean_it.run(mode="local").collect()
    assert plain["pid"][0] == os.getpid()
    assert plain.drop("pid").equals(out.drop("pid"))


def test_memory_limit_triggered(ns):
    with pytest.raises(PipelineError) as info:
        ns.clean_it.run(mode="local", emulate=True, rows=30_000_000)  # ~480 MB in a 256 MB function
    message = str(info.value)
    assert "clean: peak memory" in message
    assert "exceeds LambdaConfig(memory=256)" in message
    assert ns.clean_it.last_run.tasks["clean"].error.startswith("MemoryLimitError")
    assert ns.clean_it.last_run.tasks["extract"].status == "done"
    # the same work is fine without emulation: the limit is the emulator's
    assert ns.clean_it.run(mode="local", rows=30_000_000).collect().height == 2


def test_function_timeout_triggered(ns, tmp_path):
    with pytest.raises(
        PipelineError, match=r"clean: ran [\d.]+ s, timeout is 2 s \(LambdaConfig\(timeout=2\)\)"
    ) as info:
        ns.clean_it.run(mode="local", emulate=True, sleep=60.0, marks=str(tmp_path))
    assert ns.clean_it.last_run.tasks["clean"].error.startswith("TaskTimeoutError")
    assert float(re.search(r"ran ([\d.]+) s", str(info.value))[1]) >= 2  # not stopped before its time
    # stopped at its timeout, not waited for: its process is gone, its 60 s sleep never ended
    assert not still_running(tmp_path)
    assert not (tmp_path / "finished").exists()


def test_task_timeout_is_used_when_smaller(ns):
    with pytest.raises(PipelineError, match=r"quick: ran [\d.]+ s, timeout is 1 s \(the task's timeout=1\)"):
        ns.quick_it.run(mode="local", emulate=True, sleep=5.0)
    assert ns.quick_it.run(mode="local", emulate=True, sleep=0.1).collect().height == 4


def test_partition_map_is_one_invocation_per_file(ns):
    out = ns.per_file_pipeline.run(mode="local", emulate=True).collect()
    assert out["part"].to_list() == [0, 0, 1, 1, 2, 2]
    assert len(set(out["pid"].to_list())) == 3
    assert os.getpid() not in out["pid"].to_list()


def test_ctrl_c_kills_the_function_process(ns, tmp_path):
    import psutil

    before = {p.pid for p in psutil.Process().children(recursive=True)}
    pressed = interrupt_when(tmp_path / "started")  # Ctrl-C once the function runs
    with pytest.raises(KeyboardInterrupt):
        ns.clean_it.run(mode="local", emulate=True, sleep=60.0, marks=str(tmp_path))
    pressed.join()
    record = ns.clean_it.last_run
    assert record.status == "cancelled"
    assert record.tasks["extract"].status == "done"
    assert not still_running(tmp_path)  # the emulated function's process is killed
    assert not (tmp_path / "finished").exists()
    after = {p.pid for p in psutil.Process().children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE}
    assert after <= before
