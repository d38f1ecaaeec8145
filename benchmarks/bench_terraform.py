"""Benchmark: Terraform for a 1,000-task, 100-bucket pipeline (target: <= 1 s per cloud)."""

from __future__ import annotations

import time

import polars as pl

from glacier import Provider, pipeline
from glacier.config import AwsConfig, LambdaConfig
from glacier.terraform import render

TASKS, BUCKETS, TARGET = 1000, 100, 1.0


def _pipeline():
    provider = Provider(config=AwsConfig(region="us-east-1"))
    executors = [provider.serverless(config=LambdaConfig(), name=f"fn_{i}") for i in range(10)]
    buckets = [
        provider.bucket(bucket=f"bench-bucket-{i:03d}", path=f"part/{i}.parquet") for i in range(BUCKETS)
    ]
    tasks = []
    for i in range(TASKS):

        def body(*frames, target=None) -> pl.LazyFrame:
            return frames[0]

        tasks.append(executors[i % 10].task(name=f"t{i:04d}")(body))

    @pipeline(name="bench")
    def bench():
        outs = []
        for i, task in enumerate(tasks):
            upstream = outs[i - 1 : i] + outs[i - 7 : i - 6] if i else []
            outs.append(
                task(*upstream, buckets[i % BUCKETS])
                if not upstream
                else task(*upstream, target=buckets[i % BUCKETS])
            )
        return outs[-1]

    return bench


def main() -> list[dict]:
    p = _pipeline()
    rows = []
    for cloud in ("aws", "gcp", "azure"):
        render(p, cloud=cloud)  # warm imports
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            files = render(p, cloud=cloud)
            best = min(best, time.perf_counter() - start)
        size = sum(len(v) for v in files.values())
        ok = best <= TARGET
        print(
            f"terraform {cloud}: {TASKS} tasks, {BUCKETS} buckets -> {size / 1e6:.1f} MB in {best:.3f} s (target <= {TARGET} s) {'ok' if ok else 'SLOW'}"
        )
        rows.append(
            {
                "name": f"terraform_render_{cloud}_1000_tasks",
                "value": best,
                "unit": "s",
                "target": f"<= {TARGET} s",
                "ok": ok,
            }
        )
    return rows


if __name__ == "__main__":
    main()
