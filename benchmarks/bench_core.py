"""Core benchmarks (issue 2): the 5-step ETL, per-task overhead, import time.

Every figure is a ratio (or a per-task time) measured in the same run.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _etl import build_pipeline, make_data, polars_query  # noqa: E402

DATA = HERE.parent / ".glacier" / "bench" / "etl"


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def etl_in_process(repeat: int = 5) -> dict:
    etl = build_pipeline(DATA)
    etl.run(progress=False)  # warm-up (file cache, thread pools)
    polars_query(DATA)
    # interleave to share the machine's noise fairly
    g, p = [], []
    for _ in range(repeat):
        g.append(_best(lambda: etl.run(progress=False), 1))
        p.append(_best(lambda: polars_query(DATA), 1))
    expected = pl.read_parquet(DATA / "out" / "polars.parquet")
    from polars.testing import assert_frame_equal

    assert_frame_equal(pl.read_parquet(DATA / "out" / "glacier.parquet"), expected, check_exact=False)
    ratio = min(g) / min(p)
    return {
        "name": "etl 10M rows, in-process (glacier / one polars query)",
        "value": round(ratio, 3),
        "unit": "x",
        "target": "<= 1.05",
        "ok": ratio <= 1.05,
        "detail": f"glacier {min(g):.3f}s polars {min(p):.3f}s",
    }


def _process(kind: str) -> tuple[float, float, int]:
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, str(HERE / "_etl.py"), kind, str(DATA)], check=True, capture_output=True, text=True
    ).stdout.split()
    return time.perf_counter() - start, float(out[0]), int(out[1])


def etl_whole_process(repeat: int = 3) -> list[dict]:
    runs: dict[str, list[tuple[float, float, int]]] = {"glacier": [], "polars": [], "eager": []}
    for _ in range(repeat):
        for kind in runs:
            runs[kind].append(_process(kind))
    wall = {k: min(r[0] for r in v) for k, v in runs.items()}
    rss = {k: min(r[2] for r in v) for k, v in runs.items()}
    ratio = wall["glacier"] / wall["polars"]
    mem = rss["glacier"] / rss["polars"]
    return [
        {
            "name": "etl 10M rows, whole process incl. imports (glacier / polars)",
            "value": round(ratio, 3),
            "unit": "x",
            "target": "<= 1.25",
            "ok": ratio <= 1.25,
            "detail": f"glacier {wall['glacier']:.2f}s polars {wall['polars']:.2f}s",
        },
        {
            "name": "etl 10M rows, peak memory (glacier / polars)",
            "value": round(mem, 3),
            "unit": "x",
            "target": "<= 1.2",
            "ok": mem <= 1.2,
            "detail": f"glacier {rss['glacier'] / 1024:.0f} MB polars {rss['polars'] / 1024:.0f} MB",
        },
        {
            "name": "reference: collect after every step (time / polars)",
            "value": round(wall["eager"] / wall["polars"], 3),
            "unit": "x",
            "target": "-",
            "ok": True,
            "detail": f"memory {rss['eager'] / 1024:.0f} MB",
        },
    ]


def task_overhead(n: int = 1000, repeat: int = 5) -> list[dict]:
    from glacier import Provider, pipeline
    from glacier.config import LocalConfig

    ex = Provider(config=LocalConfig(base_path=str(DATA))).local()

    @ex.task()
    def step(x: int) -> int:
        return x + 1

    @ex.task()
    def total(*xs: int) -> int:
        return sum(xs)

    @pipeline(name="chain")
    def chain():
        x = step(0)
        for _ in range(n - 1):
            x = step(x)
        return x

    @pipeline(name="fan")
    def fan():
        return total(*[step(i) for i in range(n - 1)])

    rows = []
    for name, pipe, expected in (("chain", chain, n), ("fan-out/fan-in", fan, sum(range(1, n)))):
        assert pipe.run(progress=False) == expected  # warm-up
        best = _best(lambda p=pipe: p.run(progress=False), repeat)
        per = best / n * 1e6
        rows.append(
            {
                "name": f"per-task overhead, {n}-task {name} (trace + run)",
                "value": round(per, 1),
                "unit": "us/task",
                "target": "<= 30",
                "ok": per <= 30,
            }
        )
    return rows


def import_time(repeat: int = 15) -> dict:
    def once(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - start

    g, p = [], []
    for _ in range(repeat):
        p.append(once("import polars"))
        g.append(once("from glacier import Provider, pipeline; from glacier.config import LocalConfig"))
    ratio = statistics.median(g) / statistics.median(p)
    return {
        "name": "import time (glacier / polars), fresh process, median",
        "value": round(ratio, 3),
        "unit": "x",
        "target": "<= 1.5",
        "ok": ratio <= 1.5,
        "detail": f"glacier {statistics.median(g) * 1000:.0f} ms polars {statistics.median(p) * 1000:.0f} ms",
    }


def main() -> list[dict]:
    make_data(DATA)
    rows = [etl_in_process(), *etl_whole_process(), *task_overhead(), import_time()]
    for row in rows:
        flag = "ok " if row["ok"] else "MISS"
        print(
            f"[{flag}] {row['name']}: {row['value']} {row['unit']} (target {row['target']})"
            + (f"  [{row['detail']}]" if row.get("detail") else ""),
            flush=True,
        )
    return rows


if __name__ == "__main__":
    main()
