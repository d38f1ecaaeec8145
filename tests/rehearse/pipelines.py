"""Pipelines the rehearsal tests deploy: Example 2 without its Databricks step, and a
fan-out/fan-in over a local task, two Lambda functions and an EC2 instance."""

from __future__ import annotations

import polars as pl

from glacier import Provider, pipeline
from glacier.config import AwsConfig, EC2Config, LambdaConfig

provider = Provider(config=AwsConfig(region="us-east-1"))

local_exec = provider.local()
lambda_exec = provider.serverless(config=LambdaConfig(memory=1024))
vm_exec = provider.vm(config=EC2Config(instance_type="t3.large"), name="box")

raw_data = provider.bucket(bucket="data-lake", path="raw/data.parquet")
features = provider.bucket(bucket="data-lake", path="features/features.parquet")
totals_out = provider.bucket(bucket="reports", path="daily/totals.parquet")


@local_exec.task()
def extract(source) -> pl.LazyFrame:
    return source.scan()


@lambda_exec.task()
def clean(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.filter(pl.col("value").is_not_null())


@local_exec.task()
def save(df: pl.LazyFrame, target) -> None:
    target.write(df.collect())


@pipeline(name="ml_inference")
def ml_pipeline():
    data = extract(raw_data)  # Local
    cleaned = clean(data)  # Lambda
    save(cleaned, features)  # Local
    return cleaned


@lambda_exec.task()
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
    left = doubled(data)  # Lambda
    right = ranked(data)  # EC2
    return combine(left, right, totals_out)  # local
