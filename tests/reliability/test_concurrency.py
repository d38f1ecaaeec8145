"""Concurrent runs: threads in one kernel, and processes sharing one task cache."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections import defaultdict

import polars as pl
import pytest

from glacier import PipelineError, pipeline
from glacier.run.events import subscribe


def _pipelines(provider, barrier):
    ex = provider.local()

    def make(prefix: str, fail: bool = False):
        @ex.task(name=f"{prefix}_load")
        def load(n: int) -> pl.DataFrame:
            barrier.wait(timeout=10)  # both runs are inside a task at the same time
            return pl.DataFrame({"x": list(range(n))})

        @ex.task(name=f"{prefix}_total")
        def total(df: pl.DataFrame) -> int:
            time.sleep(0.02)
            if fail:
                raise ValueError(f"{prefix} refuses")
            return int(df["x"].sum())

        @pipeline(name=prefix)
        def p(n: int = 10):
            return total(load(n))

        return p

    return make("alpha"), make("beta", fail=True)


def test_two_pipelines_in_threads_keep_separate_records_and_events(local_provider):
    alpha, beta = _pipelines(local_provider, threading.Barrier(2))
    seen = {"alpha": [], "beta": []}
    subs = [alpha.subscribe(seen["alpha"].append), beta.subscribe(seen["beta"].append)]
    everything = []
    subs.append(subscribe(everything.append))
    own = defaultdict(list)
    outcome = {}

    def go(p, n):
        try:
            outcome[p.name] = p.run(mode="local", n=n, on_event=own[p.name].append)
        except PipelineError as exc:
            outcome[p.name] = exc

    threads = [threading.Thread(target=go, args=(alpha, 100)), threading.Thread(target=go, args=(beta, 7))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for unsubscribe in subs:
        unsubscribe()

    assert outcome["alpha"] == sum(range(100))
    assert isinstance(outcome["beta"], PipelineError) and "beta refuses" in str(outcome["beta"])
    ra, rb = alpha.last_run, beta.last_run
    assert ra.run_id != rb.run_id
    assert ra.status == "done" and rb.status == "failed"
    assert set(ra.tasks) == {"alpha_load", "alpha_total"} and set(rb.tasks) == {"beta_load", "beta_total"}
    assert ra.params == {"n": 100} and rb.params == {"n": 7}
    assert outcome["beta"].record is rb
    for name, record in (("alpha", ra), ("beta", rb)):
        for stream in (seen[name], own[name]):
            assert {e.run_id for e in stream} == {record.run_id}
            assert {e.pipeline for e in stream} == {name}
            assert all(e.node is None or e.node.startswith(name) for e in stream)
        assert [e.kind for e in seen[name]] == [e.kind for e in own[name]]
    assert {e.run_id for e in everything} == {ra.run_id, rb.run_id}
    assert len(everything) == len(seen["alpha"]) + len(seen["beta"])


def test_same_pipeline_in_threads_with_different_parameters(local_provider):
    ex = local_provider.local()
    barrier = threading.Barrier(4)

    @ex.task()
    def make(n: int) -> pl.LazyFrame:
        barrier.wait(timeout=10)
        return pl.LazyFrame({"x": list(range(n))})

    @ex.task()
    def total(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.select(pl.col("x").sum())

    @pipeline(name="same")
    def same(n: int):
        return total(make(n))

    results, streams = {}, defaultdict(list)

    def go(n):
        results[n] = same.run(mode="local", n=n, on_event=streams[n].append)

    threads = [threading.Thread(target=go, args=(n,)) for n in (10, 20, 30, 40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert {n: r.collect().item() for n, r in results.items()} == {n: sum(range(n)) for n in (10, 20, 30, 40)}
    run_ids = [{e.run_id for e in streams[n]} for n in (10, 20, 30, 40)]
    assert all(len(ids) == 1 for ids in run_ids)
    assert len(set().union(*run_ids)) == 4
    assert same.last_run.status == "done"


WORKER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    import polars as pl
    from glacier import Provider, pipeline
    from glacier.config import LocalConfig
    from glacier.run.cache import default_cache

    provider = Provider(config=LocalConfig(base_path=sys.argv[1]))
    ex = provider.local()
    ROWS = 300_000

    @ex.task(cache=True)
    def big(k: int) -> pl.LazyFrame:
        return pl.LazyFrame({"k": [k] * ROWS, "i": range(ROWS)}).with_columns(v=pl.col("i") * k)

    @ex.task(cache=True)
    def small(name: str) -> dict:
        return {"name": name, "payload": b"x" * (int(name[4:]) * 100)}

    @ex.task()
    def check(df: pl.LazyFrame, meta: dict) -> tuple:
        k = int(meta["name"][4:])
        return df.select(pl.len(), pl.col("v").sum()).collect().row(0), k, len(meta["payload"])

    @pipeline(name="shared_cache")
    def shared(k: int, name: str):
        return check(big(k), small(name))

    # a barrier across processes: say "ready", then wait for the test's "go"
    ready, go, began, other_began = (Path(p) for p in sys.argv[2:6])
    ready.touch()
    while not go.exists():
        time.sleep(0.01)
    began.touch()
    hits = 0
    for round_ in range(3):
        for k in range(1, 9):
            default_cache().wait()  # this process's entries are on disk (written in the background)
            default_cache().forget_memory()  # read what the other process wrote
            rows_sum, kk, n = shared.run(mode="local", k=k, name=f"key-{k}")
            expected = (ROWS, k * (ROWS * (ROWS - 1) // 2))
            assert tuple(rows_sum) == expected, (k, rows_sum, expected)
            assert kk == k and n == k * 100
            hits += len(shared.last_run.cache_hits)
    # the two worked at the same time when each ends after the other began
    print("hits", hits, "overlap", other_began.exists())
    """
)

READER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    import polars as pl

    root, stop = Path(sys.argv[1]), Path(sys.argv[2])
    seen = 0
    while not stop.exists():
        for entry in root.glob("??/*"):
            try:
                meta = json.loads((entry / "meta.json").read_text())
            except FileNotFoundError:
                continue  # not there (yet, or swapped out): a miss, never a half entry
            value = entry / ("value.pkl" if meta["kind"] == "pickle" else "value.arrow")
            try:
                data = value.read_bytes()
            except FileNotFoundError:
                continue
            if meta["kind"] != "pickle":
                pl.read_ipc(data)  # raises on a truncated file
            seen += 1
        time.sleep(0.005)
    print("seen", seen)
    """
)


@pytest.mark.slow
def test_two_processes_share_one_cache_without_corruption(tmp_path):
    cache = tmp_path / "cache"
    env = {**os.environ, "GLACIER_CACHE_DIR": str(cache), "GLACIER_PROGRESS": "0"}
    (tmp_path / "worker.py").write_text(WORKER)
    (tmp_path / "reader.py").write_text(READER)
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{i}" for i in range(2)]
    began = [tmp_path / f"began-{i}" for i in range(2)]
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                str(tmp_path / "worker.py"),
                str(tmp_path / "data"),
                str(ready[i]),
                str(go),
                str(began[i]),
                str(began[1 - i]),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    reader = subprocess.Popen(
        [sys.executable, str(tmp_path / "reader.py"), str(cache), str(tmp_path / "stop")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # both workers imported and waiting (however long that took), then both start at once
    while not all(flag.exists() for flag in ready):
        assert all(w.poll() is None for w in workers), [w.communicate()[1][-3000:] for w in workers]
        time.sleep(0.01)
    go.touch()
    outputs = [w.communicate(timeout=240) for w in workers]
    for w, (out, err) in zip(workers, outputs, strict=True):
        assert w.returncode == 0, err[-3000:]
        fields = out.split()
        assert int(fields[1]) >= 32  # rounds 2 and 3 read every entry back
        # the two processes really worked on the cache at the same time: this one ended after
        # the other began (an order of events, seen through the other's marker file)
        assert fields[3] == "True", out
    (tmp_path / "stop").touch()
    out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err[-3000:]
    assert int(out.split()[1]) > 0
    # every entry on disk is whole; no temporary folder is left behind
    entries = list(cache.glob("??/*"))
    assert len(entries) == 16
    for entry in entries:
        assert (entry / "meta.json").exists()
    leftovers = list((cache / ".tmp").iterdir()) if (cache / ".tmp").exists() else []
    assert leftovers == []


def test_cache_keys_do_not_confuse_equal_small_values(local_provider, tmp_path, monkeypatch):
    """Found here: equal small values (interned ints) inside another cached output made
    ``times_ten(2)`` hit ``times_ten(1)``'s entry (fixed in 2206e74)."""
    from glacier.run import cache

    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    cache.set_cache_dir(None)
    ex = local_provider.local()

    @ex.task(cache=True)
    def nums() -> list:
        return [1, 2, 3]

    @ex.task(cache=True)
    def times_ten(k: int) -> int:
        return k * 10

    @pipeline(name="nums")
    def first():
        return nums()

    @pipeline(name="times_ten")
    def second(k: int):
        return times_ten(k)

    assert first.run(mode="local") == [1, 2, 3]
    assert [second.run(mode="local", k=k) for k in (1, 2, 3)] == [10, 20, 30]
