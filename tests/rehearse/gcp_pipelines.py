"""A pipeline written for Google Cloud, which the rehearsal tests export to AWS (re-targeted)."""

from __future__ import annotations

import polars as pl

from glacier import Provider, pipeline
from glacier.config import CloudFunctionConfig, GcpConfig, GCSConfig

provider = Provider(config=GcpConfig(project_id="glacier-test", region="europe-west1"))
fn = provider.serverless(config=CloudFunctionConfig(memory=1024))
raw = provider.bucket(bucket="data-lake", path="raw/data.parquet", config=GCSConfig())
clean_out = provider.bucket(bucket="reports", path="clean/data.parquet")


@fn.task()
def load(source) -> pl.LazyFrame:
    return source.scan()


@fn.task()
def tidy(df: pl.LazyFrame, target) -> pl.LazyFrame:
    out = df.drop_nulls()
    target.write(out.collect())
    return out


@pipeline(name="gcp_etl")
def gcp_etl():
    return tidy(load(raw), clean_out)
