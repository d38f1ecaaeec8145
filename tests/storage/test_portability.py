"""Same code, different config: one pipeline on local, S3, GCS and Azure gives the same result,
and the design document's portability snippet runs unchanged with GLACIER_CLOUD set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl

from glacier import pipeline
from tests.storage.support import BACKENDS, new_bucket_name, provider_for, server_for

ROOT = Path(__file__).resolve().parents[2]
SALES = pl.DataFrame(
    {
        "day": ["2024-01-01", "2024-01-01", "2024-01-02", "2024-01-02", "2024-01-03"],
        "region": ["north", "south", "north", "south", "north"],
        "amount": [120.0, 80.5, -5.0, 99.9, 42.0],
    }
)


def _run_pipeline(provider, bucket: str) -> pl.DataFrame:
    raw = provider.bucket(bucket=bucket, path="raw/sales.csv")
    out = provider.bucket(bucket=bucket, path="curated/by_region")
    raw.write(SALES)
    ex = provider.local()

    @ex.task()
    def clean(source) -> pl.LazyFrame:
        return source.scan().filter(pl.col("amount") > 0)

    @ex.task()
    def summarise(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.group_by("region", "day").agg(pl.col("amount").sum()).sort("region", "day")

    @ex.task()
    def publish(df: pl.LazyFrame) -> int:
        out.write(df, partition_by="region")
        return len(out.ls())

    @pipeline(name="sales")
    def sales():
        summary = summarise(clean(raw))
        publish(summary)
        return summary

    result = sales.run(mode="local")
    frame = result.collect() if isinstance(result, pl.LazyFrame) else result
    back = out.read().select("region", "day", "amount").sort("region", "day")
    assert back.equals(frame.select("region", "day", "amount"))
    return frame


def test_same_pipeline_identical_on_every_backend(servers, tmp_path):
    results = {}
    for name in BACKENDS:
        server = None if name == "local" else server_for(servers, name)
        bucket = new_bucket_name()
        if server is not None:
            server.create_bucket(bucket)
        results[name] = _run_pipeline(provider_for(name, server, tmp_path / name), bucket)
    first = results["local"]
    assert first.height == 4
    for name, frame in results.items():
        assert frame.equals(first), name


def test_portability_example_runs_unchanged(servers, tmp_path):
    """examples/portability.py with GLACIER_CLOUD=local/aws/gcp/azure against the servers."""
    outputs = {}
    for cloud, name in (("local", "local"), ("aws", "s3"), ("gcp", "gcs"), ("azure", "azure")):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AZURE_", "GOOGLE_"))}
        env.update(GLACIER_CLOUD=cloud, GLACIER_PROGRESS="0", PYTHONPATH=str(ROOT))
        if name != "local":
            server = server_for(servers, name)
            server.create_bucket("data")
            env.update(server.env)
        done = subprocess.run(
            [sys.executable, str(ROOT / "examples" / "portability.py")],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"{cloud}: {done.stderr[-2000:]}"
        first, _, rest = done.stdout.partition("\n")
        scheme = {"local": str(tmp_path), "aws": "s3://", "gcp": "gs://", "azure": "az://"}[cloud]
        assert first.startswith(f"cloud={cloud} uri={scheme}"), first
        outputs[cloud] = rest
    assert outputs["local"].strip()
    for cloud, text in outputs.items():
        assert text == outputs["local"], cloud
