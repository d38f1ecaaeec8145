"""A small ETL on two executors (local + a Lambda-configured serverless, both run
in-process in local mode) used by the widget tests, the notebook and the browser test."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from glacier import Provider, pipeline
from glacier.config import LambdaConfig, LocalConfig


def build(base: str | Path) -> dict[str, object]:
    """Provider, executors, buckets and the ``etl`` pipeline, data written under ``base``."""
    provider = Provider(config=LocalConfig(base_path=str(base)))
    local_exec = provider.local()
    lambda_exec = provider.serverless(config=LambdaConfig(memory=1024, timeout=60))
    raw = provider.bucket(bucket="data", path="raw.parquet")
    out = provider.bucket(bucket="data", path="clean.parquet")
    raw.write(pl.DataFrame({"id": list(range(100)), "value": [i % 7 - 3 for i in range(100)]}))

    @local_exec.task()
    def extract(source) -> pl.LazyFrame:
        return source.scan()

    @lambda_exec.task()
    def clean(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.filter(pl.col("value") > 0)

    @lambda_exec.task()
    def enrich(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.with_columns((pl.col("value") * 10).alias("score"))

    @local_exec.task()
    def save(df: pl.LazyFrame, target) -> int:
        frame = df.collect()
        target.write(frame)
        return frame.height

    @pipeline(name="etl")
    def etl():
        data = extract(raw)
        cleaned = clean(data)
        enriched = enrich(cleaned)
        save(enriched, out)
        return enriched

    return {
        "provider": provider,
        "local_exec": local_exec,
        "lambda_exec": lambda_exec,
        "raw": raw,
        "out": out,
        "etl": etl,
    }
