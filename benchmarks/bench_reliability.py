"""Scale: a 10,000-task pipeline is built, displayed (payload only) and run in-process.

Each figure is measured in a fresh child process, so its peak resident memory (``ru_maxrss``)
belongs to the pipeline alone. Also: the per-task cost of a run under the DAG property test's
shape (random fan-in), and the wait for Ctrl-C while tasks run on worker threads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

__all__ = ["main", "SCALE_SCRIPT"]

TASKS = 10_000

#: Builds a layered DAG of ``W`` x ``L`` tasks plus one join: each node combines two of the layer above.
SCALE_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys, tempfile, time
    from glacier import Provider, pipeline
    from glacier.config import LocalConfig

    W, L = int(sys.argv[1]), int(sys.argv[2])
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ex = Provider(config=LocalConfig(base_path=tempfile.mkdtemp())).local()

    @ex.task()
    def seed(i: int) -> int:
        return i

    @ex.task()
    def combine(a: int, b: int) -> int:
        return (a + b) % 1000003

    @ex.task()
    def total(*xs: int) -> int:
        return sum(xs)

    @pipeline(name="wide")
    def wide():
        layer = [seed(i) for i in range(W)]
        for _ in range(L - 1):
            layer = [combine(layer[i], layer[(i + 1) % W]) for i in range(W)]
        return total(*layer)

    out = {}
    t = time.perf_counter(); graph = wide.graph; out["build_s"] = time.perf_counter() - t
    out["nodes"] = len(graph.nodes)
    t = time.perf_counter(); bundle = wide._repr_mimebundle_(); out["display_s"] = time.perf_counter() - t
    out["display_bytes"] = sum(len(v.encode()) if isinstance(v, str) else len(json.dumps(v)) for v in bundle.values())
    t = time.perf_counter(); result = wide.run(mode="local"); out["run_s"] = time.perf_counter() - t
    t = time.perf_counter(); rb = wide.last_run._repr_mimebundle_(); out["record_display_s"] = time.perf_counter() - t
    out["record_display_bytes"] = sum(len(v.encode()) if isinstance(v, str) else len(json.dumps(v)) for v in rb.values())
    out["status"] = wide.last_run.status
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["base_rss_mb"] = base / 1024
    print(json.dumps(out))
    """
)


def _child(width: int, layers: int) -> dict:
    env = {**os.environ, "GLACIER_PROGRESS": "0"}
    proc = subprocess.run(
        [sys.executable, "-c", SCALE_SCRIPT, str(width), str(layers)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _row(name: str, value: float, unit: str, target: str, ok: bool, detail: str = "") -> dict:
    row = {"name": name, "value": round(value, 3), "unit": unit, "target": target, "ok": ok}
    if detail:
        row["detail"] = detail
    return row


def main() -> list[dict]:
    big = _child(100, TASKS // 100)
    small = _child(10, 10)  # 100 tasks: the fixed cost of the interpreter and imports
    n = big["nodes"]
    rows = [
        _row(f"build {n}-task pipeline (trace)", big["build_s"], "s", "< 2", big["build_s"] < 2),
        _row(f"display {n}-task pipeline (mimebundle)", big["display_s"], "s", "< 2", big["display_s"] < 2),
        _row(
            f"display payload, {n} tasks",
            big["display_bytes"] / 1e6,
            "MB",
            "< 5",
            big["display_bytes"] < 5e6,
        ),
        _row(
            f"run {n} tasks in-process",
            big["run_s"],
            "s",
            "< 5",
            big["run_s"] < 5 and big["status"] == "done",
        ),
        _row(
            "per-task run overhead (10k tasks)",
            big["run_s"] / n * 1e6,
            "us/task",
            "< 500",
            big["run_s"] / n < 500e-6,
        ),
        _row(
            f"display run record, {n} tasks", big["record_display_s"], "s", "< 2", big["record_display_s"] < 2
        ),
        _row(
            f"peak memory, {n}-task build + display + run",
            big["peak_rss_mb"],
            "MB",
            "< 500",
            big["peak_rss_mb"] < 500,
            detail=f"{big['peak_rss_mb'] - small['peak_rss_mb']:.0f} MB above a 100-task run",
        ),
    ]
    for row in rows:
        flag = "ok " if row["ok"] else "MISS"
        extra = f"  [{row['detail']}]" if row.get("detail") else ""
        print(
            f"[{flag}] {row['name']}: {row['value']} {row['unit']} (target {row['target']}){extra}",
            flush=True,
        )
    return rows


if __name__ == "__main__":
    main()
