"""The rehearsal pipelines written for Azure: Example 2 without its Databricks step, and a
fan-out/fan-in over a local task, two Azure Functions and an Azure VM."""

from __future__ import annotations

import polars as pl

from glacier import Provider, pipeline
from glacier.config import AzureConfig, AzureFunctionConfig, AzureVMConfig

provider = Provider(config=AzureConfig(location="eastus"))

local_exec = provider.local()
function_exec = provider.serverless(config=AzureFunctionConfig(memory=2048))
vm_exec = provider.vm(config=AzureVMConfig(vm_size="Standard_D2s_v5"), name="box")

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
    data = extract(raw_data)  # local: an Azure Function of its own
    cleaned = clean(data)  # Azure Function
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
    left = doubled(data)  # Azure Function
    right = ranked(data)  # VM
    return combine(left, right, totals_out)  # local


@function_exec.task()
def clean_badly(df: pl.LazyFrame) -> pl.LazyFrame:
    raise ValueError("this function task fails on purpose")


@pipeline(name="broken")
def broken():
    return clean_badly(extract(raw_data))  # a failed function task must fail the Logic App run
