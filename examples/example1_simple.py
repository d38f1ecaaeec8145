"""The design document's Example 1 (simple local pipeline), as written.

Sample input is written first so the example runs on a fresh machine.
"""

import polars as pl

from glacier import Provider, pipeline
from glacier.config import LocalConfig

# Provider
provider = Provider(config=LocalConfig(base_path="./data"))

# Resources
local_exec = provider.local()
data_source = provider.bucket(bucket="data", path="input.parquet")

# (not in the design document) sample input so the example runs anywhere
data_source.write(pl.DataFrame({"id": [1, 2, 3, 4, 5], "value": [3, -1, 0, 8, 5]}))


# Tasks
@local_exec.task()
def load(source) -> pl.LazyFrame:
    return source.scan()


@local_exec.task()
def transform(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.filter(pl.col("value") > 0)


# Pipeline
@pipeline(name="simple")
def simple_pipeline():
    data = load(data_source)
    result = transform(data)
    return result


# Execute
result = simple_pipeline.run(mode="local")
print(result.collect())
