"""Jupyter benchmarks (issue 6): ``%load_ext glacier`` in a fresh kernel, a 10-row
preview against the full run of the 10M-row ETL, and the display payload of a
1,000-task pipeline. Ratios and times are measured in the same run.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _etl import build_pipeline, make_data  # noqa: E402

DATA = HERE.parent / ".glacier" / "bench" / "etl"

_TIMED_LOAD = (
    "import time as _t\n"
    "_s = _t.perf_counter()\n"
    "get_ipython().run_line_magic('load_ext', 'glacier')\n"
    "_ext = _t.perf_counter() - _s\n"
    "print(_ext)"
)


def _kernel_load_time() -> tuple[float, float]:
    """Seconds for ``%load_ext glacier`` in a fresh kernel; and for the extension alone
    (``glacier`` already imported, as after ``from glacier import Provider``)."""
    from jupyter_client.manager import start_new_kernel

    results = []
    for code in (_TIMED_LOAD, "import glacier\n" + _TIMED_LOAD):
        km, kc = start_new_kernel(kernel_name="python3")
        try:
            out: list[str] = []
            kc.execute_interactive(
                code,
                timeout=60,
                output_hook=lambda msg, out=out: (
                    out.append(msg["content"].get("text", "")) if msg["msg_type"] == "stream" else None
                ),
            )
            results.append(float("".join(out).split()[-1]))
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
    return results[0], results[1]


def load_ext(repeat: int = 3) -> list[dict]:
    fresh, ext = [], []
    for _ in range(repeat):
        a, b = _kernel_load_time()
        fresh.append(a)
        ext.append(b)
    value = statistics.median(fresh) * 1000
    only = statistics.median(ext) * 1000
    return [
        {
            "name": "%load_ext glacier in a fresh kernel (median, incl. import glacier)",
            "value": round(value, 1),
            "unit": "ms",
            "target": "<= 300",
            "ok": value <= 300,
        },
        {
            "name": "%load_ext glacier after `import glacier` (the extension alone, median)",
            "value": round(only, 1),
            "unit": "ms",
            "target": "-",
            "ok": True,
        },
    ]


def preview_vs_run(repeat: int = 3) -> dict:
    make_data(DATA)
    etl = build_pipeline(DATA)
    etl.run(progress=False)  # warm-up (file cache, thread pools)
    runs, previews = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        etl.run(progress=False)
        runs.append(time.perf_counter() - start)
        start = time.perf_counter()
        shown = etl.preview("clean", n=10)
        previews.append(time.perf_counter() - start)
    assert shown.rows.height == 10 and shown.ran == ("extract", "clean")
    ratio = min(previews) / min(runs)
    return {
        "name": "preview 10 rows of task 2 of the 10M-row ETL / full run",
        "value": round(ratio * 100, 2),
        "unit": "%",
        "target": "<= 10",
        "ok": ratio <= 0.10,
        "detail": f"preview {min(previews) * 1000:.1f} ms, run {min(runs):.2f} s",
    }


def display_payload(n: int = 1000, repeat: int = 5) -> dict:
    import polars as pl

    from glacier import Provider, pipeline
    from glacier.config import LocalConfig
    from glacier.display import mimebundle

    provider = Provider(config=LocalConfig(base_path=str(DATA)))
    ex = provider.local()
    raw = provider.bucket(bucket="raw", path="events.parquet")

    @ex.task()
    def step(*dfs: pl.LazyFrame) -> pl.LazyFrame:
        return dfs[0]

    @pipeline(name="wide")
    def wide():
        outs = [step(raw)]
        for i in range(1, n):
            outs.append(step(outs[i - 1], outs[(i - 1) // 2]))
        return outs[-1]

    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        bundle = mimebundle(wide)
        times.append(time.perf_counter() - start)
    assert bundle["text/html"].count('class="glacier-task"') == n
    best = min(times) * 1000
    return {
        "name": f"display payload of a {n:,}-task pipeline (trace + layout + SVG, best of {repeat})",
        "value": round(best, 1),
        "unit": "ms",
        "target": "<= 200",
        "ok": best <= 200,
        "detail": f"{len(bundle['text/html']) / 1024:.0f} KB of HTML",
    }


def main() -> list[dict]:
    rows = [*load_ext(), preview_vs_run(), display_payload()]
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
