"""The design document's Example 2 (heterogeneous execution on AWS), as written.

``mode="local"`` runs every task in this process whatever its executor, so the
example needs no AWS account: input is written to ./data first through a local
provider (not part of the design document).
"""

import polars as pl

from glacier import Provider, pipeline
from glacier.config import AwsConfig, DatabricksConfig, LambdaConfig

# Provider
provider = Provider(config=AwsConfig(region="us-east-1"))

# Execution resources
local_exec = provider.local()
lambda_exec = provider.serverless(config=LambdaConfig(memory=1024))
databricks_exec = provider.cluster(config=DatabricksConfig(...))

# Storage resources
raw_data = provider.bucket(bucket="data-lake", path="raw/data.parquet")
features = provider.bucket(bucket="data-lake", path="features/features.parquet")


# Tasks on different executors
@local_exec.task()
def extract(source) -> pl.LazyFrame:
    return source.scan()


@lambda_exec.task()
def clean(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.filter(pl.col("value").is_not_null())


@databricks_exec.task()
def ml_predict(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.with_columns(pl.lit(0.9).alias("prediction"))


@local_exec.task()
def save(df: pl.LazyFrame) -> None:
    df.collect().write_parquet("output.parquet")


# Pipeline
@pipeline(name="ml_inference")
def ml_pipeline():
    data = extract(raw_data)  # Local
    cleaned = clean(data)  # Lambda
    predictions = ml_predict(cleaned)  # Databricks
    save(predictions)  # Local
    return predictions


if __name__ == "__main__":
    import os

    from glacier.config import LocalConfig

    # (not in the design document) without AWS credentials, read from a local copy
    if not os.environ.get("AWS_ENDPOINT_URL") and not os.environ.get("AWS_ACCESS_KEY_ID"):
        local = Provider(config=LocalConfig(base_path="./data"))
        copy = local.bucket(bucket="data-lake", path="raw/data.parquet")
        copy.write(pl.DataFrame({"id": [1, 2, 3, 4], "value": [1.5, None, 3.0, None]}))
        raw_data = copy  # the pipeline body reads the module-level name at call time

    result = ml_pipeline.run(mode="local")
    print(result.collect())
