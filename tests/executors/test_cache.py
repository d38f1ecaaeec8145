"""cache=True: hits, misses after a source edit or a data change, hits after a kernel restart."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest

MODULE = """
import os
import polars as pl
from glacier import Provider, pipeline
from glacier.config import LocalConfig

provider = Provider(config=LocalConfig(base_path=os.environ["CACHE_TEST_DATA"]))
local_exec = provider.local()
orders = provider.bucket(bucket="raw", path="orders.parquet")
report = provider.bucket(bucket="curated", path="report.parquet")
CALLS = []

@local_exec.task(cache=True)
def extract(source) -> pl.LazyFrame:
    CALLS.append("extract")
    return source.scan()

@local_exec.task(cache=True)
def clean(df: pl.LazyFrame) -> pl.LazyFrame:
    CALLS.append("clean")
    return df.filter(pl.col("amount") > {threshold})

@local_exec.task(cache=True)
def total(df: pl.LazyFrame) -> pl.LazyFrame:
    CALLS.append("total")
    return df.group_by("region").agg(pl.col("amount").sum()).sort("region")

@local_exec.task(cache=True)
def publish(summary: pl.LazyFrame, target) -> pl.LazyFrame:
    CALLS.append("publish")
    target.write(summary)
    return target.scan()

@pipeline(name="cached_etl")
def cached_etl():
    return publish(total(clean(extract(orders))), report)
"""

RUN = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("etl_restart", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
out = mod.cached_etl.run(mode="local").collect()
print(json.dumps({"hits": mod.cached_etl.last_run.cache_hits, "calls": mod.CALLS, "rows": out.to_dicts()}))
"""


@pytest.fixture
def env(tmp_path, monkeypatch, cache_dir):
    data = tmp_path / "data"
    monkeypatch.setenv("CACHE_TEST_DATA", str(data))
    (data / "raw").mkdir(parents=True)
    pl.DataFrame({"region": ["a", "b", "a", "c"], "amount": [5.0, 20.0, 30.0, -1.0]}).write_parquet(
        data / "raw" / "orders.parquet"
    )
    counter = iter(range(1000))

    def load(threshold: float = 0.0):
        path = tmp_path / f"etl_v{next(counter)}.py"
        path.write_text(textwrap.dedent(MODULE).replace("{threshold}", repr(threshold)))
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module, path

    return load, data, cache_dir


def test_second_run_is_all_hits(env):
    load, _, cache_dir = env
    mod, _ = load()
    first = mod.cached_etl.run(mode="local").collect()
    assert mod.CALLS == ["extract", "clean", "total", "publish"]
    assert mod.cached_etl.last_run.cache_hits == []
    mod.CALLS.clear()
    second = mod.cached_etl.run(mode="local").collect()
    assert mod.CALLS == []
    assert mod.cached_etl.last_run.cache_hits == ["extract", "clean", "total", "publish"]
    assert {t.status for t in mod.cached_etl.last_run.tasks.values()} == {"cached"}
    assert second.equals(first)
    from glacier.run.cache import default_cache

    default_cache().wait()  # entries are written in the background
    assert any(cache_dir.glob("*/*/meta.json"))
    assert not list((cache_dir / ".tmp").iterdir())  # nothing half-written left behind


def test_source_edit_recomputes_that_task_and_downstream(env):
    load, _, _ = env
    mod, _ = load(threshold=0.0)
    mod.cached_etl.run(mode="local")
    edited, _ = load(threshold=10.0)  # the notebook cell of `clean` was edited and re-run
    out = edited.cached_etl.run(mode="local").collect()
    assert edited.CALLS == ["clean", "total", "publish"]
    assert edited.cached_etl.last_run.cache_hits == ["extract"]
    assert out.to_dicts() == [{"region": "a", "amount": 30.0}, {"region": "b", "amount": 20.0}]


def test_data_change_invalidates(env):
    load, data, _ = env
    mod, _ = load()
    mod.cached_etl.run(mode="local")
    mod.CALLS.clear()
    pl.DataFrame({"region": ["z"], "amount": [7.0]}).write_parquet(data / "raw" / "orders.parquet")
    out = mod.cached_etl.run(mode="local").collect()
    assert mod.CALLS == ["extract", "clean", "total", "publish"]
    assert out.to_dicts() == [{"region": "z", "amount": 7.0}]


def test_deleted_output_is_rewritten(env):
    load, data, _ = env
    mod, _ = load()
    mod.cached_etl.run(mode="local")
    mod.CALLS.clear()
    (data / "curated" / "report.parquet").unlink()
    mod.cached_etl.run(mode="local")
    assert mod.CALLS == ["publish"]  # its written object was gone: not a hit
    assert (data / "curated" / "report.parquet").exists()


def test_hit_after_kernel_restart(env):
    load, _, cache_dir = env
    mod, path = load()
    first = mod.cached_etl.run(mode="local").collect()
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "GLACIER_PROGRESS": "0"},
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["calls"] == []
    assert result["hits"] == ["extract", "clean", "total", "publish"]
    assert result["rows"] == first.to_dicts()


def test_cache_folder_is_configurable(env, tmp_path):
    from glacier.run import cache

    load, _, _ = env
    mod, _ = load()
    cache.set_cache_dir(tmp_path / "elsewhere")
    try:
        mod.cached_etl.run(mode="local")
        cache.default_cache().wait()  # entries are written in the background
        assert any((tmp_path / "elsewhere").glob("*/*/meta.json"))
    finally:
        cache.set_cache_dir(None)


def test_default_folder_is_dot_glacier(monkeypatch, tmp_path):
    from glacier.run import cache

    monkeypatch.delenv(cache.CACHE_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert cache.cache_dir() == Path(tmp_path / ".glacier" / "cache")


def test_big_outputs_are_held_as_file_scans(env, monkeypatch):
    from glacier.run.cache import default_cache

    load, _, _ = env
    mod, _ = load()
    monkeypatch.setattr(default_cache(), "memory_frame_bytes", 0)
    first = mod.cached_etl.run(mode="local").collect()
    default_cache().wait()  # entries are written in the background
    held = [data for (kind, data), _ in default_cache()._memory.values() if kind == "tree"]
    # no data held in memory: file scans, or plans over the pipeline's own files
    assert held and not any("DF [" in v.explain(optimized=False) for v in held)
    assert any(v.explain().upper().startswith("IPC SCAN") for v in held)  # the collected output
    mod.CALLS.clear()
    assert mod.cached_etl.run(mode="local").collect().equals(first)
    assert mod.CALLS == []
