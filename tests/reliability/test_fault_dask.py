"""Fault matrix, Dask: a worker killed mid-task, and a scheduler that cannot be reached.

(More Dask failure paths — retries after a lost worker, timeouts, Ctrl-C cancelling futures —
are in tests/executors/test_distributed.py.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest

from glacier import PipelineError, Provider, pipeline
from glacier.config import DaskConfig, LocalConfig
from tests.helpers import child_env
from tests.servers import free_port

pytest.importorskip("distributed", reason="the dask extra is not installed")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")

ROOT = Path(__file__).resolve().parents[2]
IN = pl.DataFrame({"id": [1, 2, 3, 4], "value": [5, -1, 3, 0]})


def build(tmp_path, address):
    provider = Provider(config=LocalConfig(base_path=str(tmp_path / "data")))
    local = provider.local()
    dask = provider.cluster(config=DaskConfig(address=address, n_workers=1))
    first = provider.bucket(bucket="curated", path="first.parquet")
    second = provider.bucket(bucket="curated", path="second.parquet")

    @local.task()
    def write_first() -> pl.DataFrame:
        first.write(IN)
        return IN

    @dask.task()
    def dies(df: pl.DataFrame) -> pl.DataFrame:
        os._exit(13)  # the worker process dies mid-task

    @local.task()
    def write_second(df: pl.DataFrame) -> int:
        second.write(df)
        return df.height

    @pipeline(name="dask_faults")
    def p():
        return write_second(dies(write_first()))

    return p, first, second


def test_worker_killed_mid_task(tmp_path, monkeypatch):
    monkeypatch.setenv("GLACIER_STAGING", str(tmp_path / "staging"))
    monkeypatch.setenv("GLACIER_SHIP_THRESHOLD", "1")  # the frame travels through staging files
    p, first, second = build(tmp_path, None)
    with pytest.raises(PipelineError) as info:
        p.run(mode="distributed")
    record = p.last_run
    assert [record[n].status for n in ("write_first", "dies", "write_second")] == [
        "done",
        "failed",
        "skipped",
    ]
    assert record["dies"].error.startswith("WorkerLostError")
    message = str(info.value)
    assert "'dies'" in message and "worker" in message and "check" in message and "retries=" in message
    assert pl.read_parquet(first.get_uri()).equals(IN)
    assert not second.exists()
    assert not any((tmp_path / "staging").rglob("*.arrow"))  # staged frames are removed


def test_scheduler_unreachable(tmp_path):
    # in a child process, so that a client still connecting never outlives the test
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from glacier import PipelineError
        from tests.reliability.test_fault_dask import build
        p, first, _ = build(Path({str(tmp_path)!r}), {address!r})
        try:
            p.run(mode="distributed")
        except PipelineError as exc:
            print("PipelineError:", exc)
        except BaseException as exc:
            print(type(exc).__name__ + ":", exc)
        print("first written:", first.exists())
        """
    )
    env = child_env()  # the child imports tests.reliability.test_fault_dask
    try:
        proc = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=8, env=env, cwd=tmp_path
        )
    except subprocess.TimeoutExpired:
        pytest.fail("still connecting to the scheduler after 8 s")
    out = proc.stdout
    assert out.startswith("PipelineError:"), out + proc.stderr[-1000:]
    assert "dask" in out.lower() and address in out and "check" in out
    assert "first written: False" in out  # nothing ran
