"""Pipelines the Terraform tests export: one executor of every kind, with a fan-out."""

from __future__ import annotations

import polars as pl

from glacier import Provider, pipeline
from glacier.config import (
    AwsConfig,
    DatabricksConfig,
    EC2Config,
    EMRConfig,
    LambdaConfig,
    S3Config,
)

provider = Provider(config=AwsConfig(region="eu-west-1"))

local_exec = provider.local()
lambda_exec = provider.serverless(config=LambdaConfig(memory=2048, timeout=600), name="fn")
vm_exec = provider.vm(config=EC2Config(instance_type="t3.large"), name="box")
emr_exec = provider.cluster(config=EMRConfig(instance_type="m5.xlarge", num_workers=3), name="spark")
dbx_exec = provider.cluster(
    config=DatabricksConfig(
        instance_type="i3.xlarge", num_workers=2, host="https://dbc-1.cloud.databricks.com"
    ),
    name="dbx",
)

orders = provider.bucket(bucket="orders-raw", path="2024/*.parquet")
customers = provider.bucket(
    bucket="crm", path="customers.parquet", config=S3Config(storage_class="STANDARD_IA")
)
report = provider.bucket(bucket="reports", path="daily/report.parquet")
scores = provider.bucket(bucket="reports", path="scores/")


@local_exec.task()
def load(source) -> pl.LazyFrame:
    return source.scan()


@lambda_exec.task(retries=2)
def clean(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.drop_nulls()


@vm_exec.task()
def enrich(df: pl.LazyFrame, crm) -> pl.LazyFrame:
    return df.join(crm.scan(), on="customer_id", how="left")


@emr_exec.task()
def aggregate(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.group_by("customer_id").agg(pl.col("amount").sum())


@dbx_exec.task()
def score(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.with_columns(pl.lit(0.5).alias("score"))


@local_exec.task()
def publish(totals: pl.LazyFrame, scored: pl.LazyFrame, target, extra) -> None:
    target.write(totals.collect())
    extra.write(scored.collect())


@pipeline(name="every_kind")
def every_kind():
    raw = load(orders)
    cleaned = clean(raw)
    enriched = enrich(cleaned, customers)
    totals = aggregate(enriched)
    scored = score(enriched)
    publish(totals, scored, report, scores)
    return totals
