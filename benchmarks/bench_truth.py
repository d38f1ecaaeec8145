"""Runs that tell the truth (issue 16): every frame computed once, per-task figures, cache, process.

Ratios measured in this run, interleaved, best of each (the machine is shared):

- the design document's Example 2 shape at 10M rows (extract -> clean -> a Python UDF
  ``ml_predict`` -> ``save`` writes the predictions, and the pipeline returns them)
  against the same work in polars: ``pl.collect_all([lf.sink_parquet(path, lazy=True), lf])``;
  the UDF's calls are counted on both sides;
- the 10M-row ETL, and a 26-task in-memory pipeline, with per-task metrics on against the
  same run with them off (``GLACIER_PLAN_METRICS=0``);
- the 10M-row ETL with ``cache=True`` on every task: first run / uncached, re-run in the
  same process / uncached, re-run in a new process / uncached;
- ``python _etl.py glacier`` against ``python _etl.py polars`` (whole process), and the
  import of Glacier against the import of polars.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _etl import build_pipeline, make_data  # noqa: E402

DATA = HERE.parent / ".glacier" / "bench" / "etl"
CACHE = HERE.parent / ".glacier" / "bench" / "truth-cache"
CALLS = {"n": 0}


def predict(df: pl.DataFrame) -> pl.DataFrame:
    """The "model": a Python UDF over each batch."""
    CALLS["n"] += 1
    return df.with_columns(prediction=pl.col("amount") * 0.5 + 1.0)


def _predicted(lf: pl.LazyFrame) -> pl.LazyFrame:
    return lf.map_batches(predict, schema=lf.collect_schema() | {"prediction": pl.Float64})


def polars_example_2() -> pl.DataFrame:
    lf = _predicted(pl.scan_parquet(DATA / "raw" / "events.parquet").filter(pl.col("amount").is_not_null()))
    sink = lf.sink_parquet(DATA / "out" / "ex2_polars.parquet", lazy=True, mkdir=True)
    return pl.collect_all([sink, lf])[1]


def glacier_example_2():
    from glacier import Provider, pipeline
    from glacier.config import LocalConfig

    provider = Provider(config=LocalConfig(base_path=str(DATA)))
    ex = provider.local()
    raw = provider.bucket(bucket="raw", path="events.parquet")
    features = provider.bucket(bucket="out", path="ex2_glacier.parquet")

    @ex.task()
    def extract(source) -> pl.LazyFrame:
        return source.scan()

    @ex.task()
    def clean(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.filter(pl.col("amount").is_not_null())

    @ex.task()
    def ml_predict(df: pl.LazyFrame) -> pl.LazyFrame:
        return _predicted(df)

    @ex.task()
    def save(df: pl.LazyFrame) -> None:
        features.write(df)

    @pipeline(name="ml_inference")
    def ml_inference():
        predictions = ml_predict(clean(extract(raw)))
        save(predictions)
        return predictions

    return ml_inference


def _env() -> dict[str, str]:
    """This environment, with bytecode caching on for Glacier as an installed package has it
    (polars' own modules come compiled; a checkout run with PYTHONDONTWRITEBYTECODE=1 does not)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _row(name: str, value: float, unit: str, target: str, ok: bool, detail: str = "") -> dict:
    row = {"name": name, "value": round(value, 3), "unit": unit, "target": target, "ok": ok, "detail": detail}
    print(
        f"  [{'ok  ' if ok else 'MISS'}] {name}: {row['value']} {unit} (target {target}) {detail}", flush=True
    )
    return row


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def example_2(repeat: int = 5) -> list[dict]:
    ml = glacier_example_2()
    calls = {}
    for side, fn in (("glacier", lambda: ml.run(progress=False)), ("polars", polars_example_2)):
        CALLS["n"] = 0
        fn()
        calls[side] = CALLS["n"]
    g, p = [], []
    for _ in range(repeat):
        g.append(_time(lambda: ml.run(progress=False)))
        p.append(_time(polars_example_2))
    ratio = min(g) / min(p)  # best of each: the machine is shared, noise only adds
    rows = [
        _row(
            "Example 2 shape, 10M rows (glacier / polars collect_all with a lazy sink)",
            ratio,
            "x",
            "<= 1.05",
            ratio <= 1.05,
            f"glacier {min(g):.2f}s polars {min(p):.2f}s; UDF calls per run {calls['glacier']} vs {calls['polars']}",
        )
    ]
    rows.append(
        _row(
            "Example 2 shape: UDF calls per run (glacier)",
            calls["glacier"],
            "calls",
            f"== {calls['polars']} (polars)",
            calls["glacier"] == calls["polars"],
        )
    )
    return rows


def wide_pipeline():
    """26 small lazy tasks (a 12-step chain, a filter, 6 aggregates, 6 finishing steps)."""
    from glacier import Provider, pipeline
    from glacier.config import LocalConfig

    ex = Provider(config=LocalConfig(base_path=str(DATA))).local()
    base = pl.DataFrame({"a": range(20_000), "b": [i % 7 for i in range(20_000)]})

    @ex.task()
    def source() -> pl.LazyFrame:
        return base.lazy()

    @ex.task()
    def step(df: pl.LazyFrame, i: int) -> pl.LazyFrame:
        return df.with_columns((pl.col("a") + i).alias(f"c{i}"))

    @ex.task()
    def keep(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.filter(pl.col("b") > 2)

    @ex.task()
    def branch(df: pl.LazyFrame, i: int) -> pl.LazyFrame:
        return df.group_by("b").agg(pl.col(f"c{i}").sum()).sort("b")

    @ex.task()
    def finish(df: pl.LazyFrame, i: int) -> pl.LazyFrame:
        return df.with_columns(x=pl.col(f"c{i}") * 2)

    @pipeline(name="wide")
    def wide():
        df = source()
        for i in range(12):
            df = step(df, i)
        kept = keep(df)
        return [finish(branch(kept, i), i) for i in range(6)]

    return wide


def metrics_cost_small(repeat: int = 30) -> dict:
    wide = wide_pipeline()
    wide.run(progress=False)
    on, off = [], []
    for _ in range(repeat):
        os.environ["GLACIER_PLAN_METRICS"] = "0"
        off.append(_time(lambda: wide.run(progress=False)))
        os.environ.pop("GLACIER_PLAN_METRICS", None)
        on.append(_time(lambda: wide.run(progress=False)))
    extra = (min(on) / min(off) - 1) * 100
    return _row(
        "26-task in-memory pipeline (20k rows): per-task metrics on / off",
        extra,
        "% more",
        "<= 5",
        extra <= 5,
        f"on {min(on) * 1000:.1f} ms off {min(off) * 1000:.1f} ms (matching a plan's nodes to tasks costs ~1-2 ms)",
    )


def metrics_cost(repeat: int = 5) -> dict:
    etl = build_pipeline(DATA)
    etl.run(progress=False)
    on, off = [], []
    for _ in range(repeat):
        os.environ["GLACIER_PLAN_METRICS"] = "0"
        off.append(_time(lambda: etl.run(progress=False)))
        os.environ.pop("GLACIER_PLAN_METRICS", None)
        on.append(_time(lambda: etl.run(progress=False)))
    extra = (min(on) / min(off) - 1) * 100
    return _row(
        "etl 10M rows: per-task metrics on / off",
        extra,
        "% more",
        "<= 5",
        extra <= 5,
        f"on {min(on):.3f}s off {min(off):.3f}s",
    )


NEW_PROCESS = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from _etl import build_pipeline
from pathlib import Path
etl = build_pipeline(Path(sys.argv[2]), cache=True)
start = time.perf_counter()
etl.run(mode="local", progress=False)
print(json.dumps({"seconds": time.perf_counter() - start, "hits": etl.last_run.cache_hits}))
"""


def cache(repeat: int = 8) -> list[dict]:
    from glacier.run import cache as cache_mod

    plain = build_pipeline(DATA)
    plain.run(progress=False)
    plains, firsts, again = [], [], []
    cache_mod.set_cache_dir(CACHE)
    try:
        for _ in range(repeat):  # interleaved: uncached, then a first run with an empty cache
            plains.append(_time(lambda: plain.run(progress=False)))
            cache_mod.default_cache().wait()  # the previous run's entries, written in the background
            shutil.rmtree(CACHE, ignore_errors=True)
            cache_mod.default_cache().forget_memory()
            cached = build_pipeline(DATA, cache=True)
            firsts.append(_time(lambda c=cached: c.run(progress=False)))
        for _ in range(5):
            again.append(_time(lambda c=cached: c.run(progress=False)))
        hits = len(cached.last_run.cache_hits)
        cache_mod.default_cache().wait()
    finally:
        cache_mod.set_cache_dir(None)
    env = {**_env(), "GLACIER_CACHE_DIR": str(CACHE), "GLACIER_PROGRESS": "0"}
    restarts = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", NEW_PROCESS, str(HERE), str(DATA)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        restarts.append(json.loads(out.stdout.strip().splitlines()[-1])["seconds"])
    shutil.rmtree(CACHE, ignore_errors=True)
    uncached = min(plains)
    first, rerun, restart = (
        min(firsts) / uncached,
        min(again) / uncached * 100,
        min(restarts) / uncached * 100,
    )
    detail = f"uncached {uncached * 1000:.0f} ms"
    return [
        _row("etl 10M rows, cache=True first run / uncached", first, "x", "<= 1.15", first <= 1.15, detail),
        _row(
            "etl 10M rows, cached re-run in the same process / uncached",
            rerun,
            "%",
            "<= 1",
            rerun <= 1,
            f"{min(again) * 1000:.1f} ms, {hits}/5 hits",
        ),
        _row(
            "etl 10M rows, cached re-run in a new process / uncached",
            restart,
            "%",
            "<= 5",
            restart <= 5,
            f"{min(restarts) * 1000:.0f} ms",
        ),
    ]


def whole_process(repeat: int = 5) -> list[dict]:
    def run(kind: str) -> float:
        return _time(
            lambda: subprocess.run(
                [sys.executable, str(HERE / "_etl.py"), kind, str(DATA)],
                check=True,
                capture_output=True,
                env=_env(),
            )
        )

    run("glacier")  # writes Glacier's bytecode caches once
    g, p = [], []
    for _ in range(repeat):
        g.append(run("glacier"))
        p.append(run("polars"))
    ratio = min(g) / min(p)

    def once(code: str) -> float:
        return _time(lambda: subprocess.run([sys.executable, "-c", code], check=True, env=_env()))

    ig, ip = [], []
    for _ in range(9):
        ip.append(once("import polars"))
        ig.append(once("from glacier import Provider, pipeline; from glacier.config import LocalConfig"))
    imp = statistics.median(ig) / statistics.median(ip)
    return [
        _row(
            "python _etl.py glacier / the same polars script (10M rows, whole process)",
            ratio,
            "x",
            "<= 1.10",
            ratio <= 1.10,
            f"glacier {min(g):.2f}s polars {min(p):.2f}s",
        ),
        _row(
            "import glacier / import polars (fresh process, median)",
            imp,
            "x",
            "<= 1.25",
            imp <= 1.25,
            f"glacier {statistics.median(ig) * 1000:.0f} ms polars {statistics.median(ip) * 1000:.0f} ms",
        ),
    ]


def main() -> list[dict]:
    make_data(DATA)
    os.environ.setdefault("GLACIER_PROGRESS", "0")
    return [*example_2(), metrics_cost(), metrics_cost_small(), *cache(), *whole_process()]


if __name__ == "__main__":
    main()
