"""The rehearsal pipelines written for Google Cloud: Example 2 without its Databricks step,
and a fan-out/fan-in over a local task, two Cloud Functions and a Compute Engine VM."""

from __future__ import annotations

import polars as pl

from glacier import Provider, pipeline
from glacier.config import CloudFunctionConfig, ComputeEngineConfig, GcpConfig

provider = Provider(config=GcpConfig(project_id="glacier-test", region="us-central1"))

local_exec = provider.local()
function_exec = provider.serverless(config=CloudFunctionConfig(memory=1024))
vm_exec = provider.vm(config=ComputeEngineConfig(machine_type="e2-standard-2"), name="box")

raw_data = provider.bucket(bucket="data-lake", path="raw/data.parquet")
features = provider.bucket(bucket="data-lake", path="features/features.parquet")
totals_out = provider.bucket(bucket="reports", path="daily/totals.parquet")


@local_exec.task()
def extract(source) -> pl.LazyFrame:
    return source.scan()


@function_exec.task()
def clean(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.filter(pl.col("value").is_not_null())


@local_exec.task()
def save(df: pl.LazyFrame, target) -> None:
    target.write(df.collect())


@pipeline(name="ml_inference")
def ml_pipeline():
    data = extract(raw_data)  # local: a Cloud Function of its own
    cleaned = clean(data)  # Cloud Function
    save(cleaned, features)  # local
    return cleaned


@function_exec.task()
def doubled(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.with_columns((pl.col("value") * 2).alias("value2"))


@vm_exec.task()
def ranked(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.with_columns(pl.col("value").rank().alias("rank"))


@local_exec.task()
def combine(a: pl.LazyFrame, b: pl.LazyFrame, target) -> pl.LazyFrame:
    out = a.join(b.select("id", "rank"), on="id")
    target.write(out.collect())
    return out


@pipeline(name="fan")
def fan():
    data = clean(extract(raw_data))
    left = doubled(data)  # Cloud Function
    right = ranked(data)  # VM
    return combine(left, right, totals_out)  # local


@vm_exec.task()
def ranked_badly(df: pl.LazyFrame) -> pl.LazyFrame:
    raise ValueError("this VM task fails on purpose")


@pipeline(name="broken")
def broken():
    return ranked_badly(extract(raw_data))  # a failed VM task must fail the workflow
