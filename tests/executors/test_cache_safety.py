"""The cache is safe: a hit behaves like a fresh call, entries never change once published,
and a cache that cannot store never fails a run (issue 19, items 2, 3 and 8)."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import textwrap
import warnings

import polars as pl
import pytest

from glacier import pipeline


def _fresh_cache(monkeypatch, folder):
    from glacier.run import cache

    monkeypatch.setenv(cache.CACHE_ENV, str(folder))
    cache.set_cache_dir(None)
    return cache


# -- item 2: a hit behaves like a fresh call ------------------------------------------------------
def test_a_cached_generator_is_not_handed_out_twice(local_provider, cache_dir):
    ex = local_provider.local()
    calls = []

    @ex.task(cache=True)
    def numbers(n: int):
        calls.append(n)
        return (i for i in range(n))

    @ex.task()
    def count(values) -> int:
        return sum(1 for _ in values)

    @pipeline(name="gen")
    def gen(n: int):
        return count(numbers(n))

    with pytest.warns(UserWarning, match="numbers.*cannot be cached"):
        first = gen.run(n=6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once per task, not every run
        second = gen.run(n=6)
    assert (first, second) == (6, 6)
    assert calls == [6, 6]  # not cached: it runs every time
    assert gen.last_run.cache_hits == []


def test_a_cached_list_mutated_downstream_comes_back_unchanged(local_provider, cache_dir):
    ex = local_provider.local()

    @ex.task(cache=True)
    def base() -> list:
        return [1, 2, 3]

    @ex.task()
    def grow(values: list) -> int:
        values.append(0)  # a downstream task that mutates its input
        return len(values)

    @pipeline(name="grow")
    def grown():
        return grow(base())

    assert [grown.run() for _ in range(3)] == [4, 4, 4]
    assert grown.last_run.cache_hits == ["base"]


def test_a_cached_dataframe_mutated_downstream_comes_back_unchanged(local_provider, cache_dir):
    ex = local_provider.local()

    @ex.task(cache=True)
    def frame() -> pl.DataFrame:
        return pl.DataFrame({"a": [1, 2]})

    @ex.task()
    def widen(df: pl.DataFrame) -> int:
        df.insert_column(1, pl.Series("b", [3, 4]))  # polars' in-place column insert
        return df.width

    @pipeline(name="widen")
    def widened():
        return widen(frame())

    assert [widened.run() for _ in range(3)] == [2, 2, 2]


# -- item 3: several processes on one cache folder -----------------------------------------------
PROCESS = textwrap.dedent(
    """
    import os, sys, time
    import polars as pl
    from glacier import Provider, pipeline
    from glacier.config import LocalConfig
    from glacier.run.cache import default_cache

    data, barrier, me, total, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    ex = Provider(config=LocalConfig(base_path=data)).local()

    @ex.task(cache=True)
    def make(k: int) -> pl.LazyFrame:
        return pl.LazyFrame({"k": [k] * 50_000, "i": range(50_000)})

    @ex.task()
    def total_of(df: pl.LazyFrame) -> int:
        return int(df.select(pl.col("i").sum()).collect().item())

    @pipeline(name="shared")
    def shared(k: int):
        return total_of(make(k))

    failures = 0
    for k in range(rounds):
        open(os.path.join(barrier, f"{k}-{me}"), "w").close()
        while len([n for n in os.listdir(barrier) if n.startswith(f"{k}-")]) < total:
            time.sleep(0.001)  # every process starts round k together: same key, same moment
        for _ in range(3):
            default_cache().forget_memory()  # read the entry from disk, as another process does
            try:
                assert shared.run(k=k) == sum(range(50_000))
            except Exception as exc:
                failures += 1
                print("FAILED", k, type(exc).__name__, exc, file=sys.stderr)
    print("failures", failures)
    """
)


def test_three_processes_on_one_cache_folder_never_fail_a_run(tmp_path):
    cache = tmp_path / "cache"
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    (tmp_path / "proc.py").write_text(PROCESS)
    env = {**os.environ, "GLACIER_CACHE_DIR": str(cache), "GLACIER_PROGRESS": "0"}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(tmp_path / "proc.py"),
                str(tmp_path / "data"),
                str(barrier),
                str(i),
                "3",
                "40",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err[-3000:]
        assert out.split() == ["failures", "0"], err[-3000:]
    # one whole entry per key, nothing staged left behind
    entries = list(cache.glob("??/*"))
    assert len(entries) == 40 and all((e / "meta.json").exists() for e in entries)
    assert list((cache / ".tmp").iterdir()) == []


def test_a_published_entry_is_never_replaced(local_provider, cache_dir):
    from glacier.run.cache import default_cache

    ex = local_provider.local()

    @ex.task(cache=True)
    def make() -> pl.LazyFrame:
        return pl.LazyFrame({"a": [1, 2, 3]})

    @pipeline(name="make")
    def made():
        return make()

    made.run()
    default_cache().wait()  # entries are written in the background
    (entry,) = cache_dir.glob("??/*")
    before = os.stat(entry / "value.arrow").st_ino
    default_cache().forget_memory()
    default_cache().store(made.graph["make"], (), {}, pl.LazyFrame({"a": [1, 2, 3]}))  # a second writer
    assert os.stat(entry / "value.arrow").st_ino == before  # the same file: nothing swapped in
    assert list(cache_dir.glob("??/*")) == [entry]


# -- item 8: a cache that cannot store ------------------------------------------------------------
def test_an_unwritable_cache_folder_warns_once_and_the_run_goes_on(local_provider, tmp_path, monkeypatch):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    _fresh_cache(monkeypatch, blocked)
    ex = local_provider.local()

    @ex.task(cache=True)
    def make(k: int) -> pl.DataFrame:
        return pl.DataFrame({"k": [k]})

    @pipeline(name="blocked")
    def blocked_pipeline(k: int):
        return make(k)

    with pytest.warns(UserWarning, match=f"cannot store.*{blocked}") as caught:
        assert blocked_pipeline.run(k=1)["k"].to_list() == [1]
        assert blocked_pipeline.run(k=2)["k"].to_list() == [2]
    assert len([w for w in caught if "cannot store" in str(w.message)]) == 1
    assert blocked_pipeline.last_run.status == "done"


FULL = textwrap.dedent(
    """
    import resource, signal, sys, warnings
    import polars as pl
    from glacier import Provider, pipeline
    from glacier.config import LocalConfig

    ex = Provider(config=LocalConfig(base_path=sys.argv[1])).local()

    @ex.task(cache=True)
    def big() -> pl.DataFrame:
        return pl.DataFrame({"i": range(200_000)})

    @pipeline(name="full")
    def full():
        return big()

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))  # the disk is "full" at 64 kB
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = full.run()
    print(out.height, full.last_run.status, len(caught), caught[0].message if caught else "")
    """
)


def test_a_full_cache_disk_does_not_fail_the_run(tmp_path):
    (tmp_path / "full.py").write_text(FULL)
    env = {**os.environ, "GLACIER_CACHE_DIR": str(tmp_path / "cache"), "GLACIER_PROGRESS": "0"}
    done = subprocess.run(
        [sys.executable, str(tmp_path / "full.py"), str(tmp_path / "data")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    height, status, warned, message = done.stdout.split(" ", 3)
    assert (height, status, warned) == ("200000", "done", "1")
    assert "cannot store" in message and str(tmp_path / "cache") in message
    assert signal.SIGXFSZ and resource.RLIMIT_FSIZE  # the limits this test relies on exist here
