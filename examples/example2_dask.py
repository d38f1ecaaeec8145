"""The design document's Example 2 with its cluster executor on Dask.

The Databricks cluster of Example 2 becomes ``provider.cluster(config=DaskConfig())``:
``mode="distributed"`` runs ``ml_predict`` on a real Dask cluster (``address=None``
starts a LocalCluster for the run; give ``DaskConfig(address="tcp://scheduler:8786")``
to use a running one), ``extract``/``save`` in this process. The Lambda task cannot
run without deploying it, so this variant binds ``clean`` to the Dask cluster too.
``mode="local"`` runs everything here; both give the same result.

Run with ``python examples/example2_dask.py``.
"""

from __future__ import annotations

import os
import tempfile

import polars as pl

from glacier import Provider, pipeline
from glacier.config import DaskConfig, LocalConfig

BASE = os.environ.get("GLACIER_EXAMPLE_DIR") or tempfile.mkdtemp(prefix="glacier-example2-dask-")

# Provider (local storage: the Dask workers on this machine read the same disk)
provider = Provider(config=LocalConfig(base_path=BASE))

# Execution resources
local_exec = provider.local()
dask_exec = provider.cluster(config=DaskConfig(n_workers=2, address=os.environ.get("DASK_SCHEDULER_ADDRESS")))

# Storage resources
raw_data = provider.bucket(bucket="data-lake", path="raw/data.parquet")
predictions_out = provider.bucket(bucket="data-lake", path="features/predictions.parquet")


# Tasks on different executors
@local_exec.task()
def extract(source) -> pl.LazyFrame:
    return source.scan()


@dask_exec.task(retries=2)
def clean(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.filter(pl.col("value").is_not_null())


@dask_exec.task(retries=2, timeout=600)
def ml_predict(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.with_columns(pl.lit(0.9).alias("prediction"))


@local_exec.task()
def save(df: pl.LazyFrame, target) -> None:
    target.write(df)


# Pipeline
@pipeline(name="ml_inference")
def ml_pipeline():
    data = extract(raw_data)  # this process
    cleaned = clean(data)  # Dask
    predictions = ml_predict(cleaned)  # Dask
    save(predictions, predictions_out)  # this process
    return predictions


def main() -> None:
    raw_data.write(pl.DataFrame({"id": [1, 2, 3, 4], "value": [1.5, None, 3.0, None]}))
    local = ml_pipeline.run(mode="local").collect()
    distributed = ml_pipeline.run(mode="distributed").collect()
    print(distributed)
    print(ml_pipeline.last_run.summary())
    assert distributed.equals(local), "mode='distributed' must give what mode='local' gives"
    print("same result with mode='local' and mode='distributed'")


if __name__ == "__main__":
    main()
