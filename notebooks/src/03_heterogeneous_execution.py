# %% [markdown]
# # 03 · Heterogeneous execution: local, serverless and cluster tasks in one pipeline
#
# **What it shows.** The design document's *Example 2*: tasks bound to a local executor, a
# serverless function (`LambdaConfig`) and a cluster (`DatabricksConfig`) in one pipeline.
# `run(mode="local")` runs them all in this process (the notebook loop); `emulate=True` runs
# the serverless task in its own process under the function's memory and timeout, so limits
# bite here before they bite in the cloud; `mode="distributed"` runs cluster tasks on a real
# Dask cluster (a `LocalCluster` started for the run), including a partitioned map that
# processes one file per Dask task.
#
# **How to run it.** `.venv/bin/jupyter lab notebooks/03_heterogeneous_execution.ipynb` (after
# `make test` once: the `glacier` kernel and the `dask` extra), then *Run All*. Storage is local
# (`./data`) so no cloud account is needed; with `AwsConfig` only the provider line changes
# (see notebook 02).

# %%
import polars as pl

from glacier import PipelineError, Provider, pipeline
from glacier.config import DaskConfig, DatabricksConfig, LambdaConfig, LocalConfig

%load_ext glacier

# %% [markdown]
# ## Resources: three kinds of executor, two buckets

# %%
provider = Provider(config=LocalConfig(base_path="./data"))

local_exec = provider.local()
lambda_exec = provider.serverless(config=LambdaConfig(memory=1024, timeout=60))
databricks_exec = provider.cluster(config=DatabricksConfig(cluster_id="cluster-123", num_workers=4))

raw_data = provider.bucket(bucket="data-lake", path="raw/data.parquet")
features = provider.bucket(bucket="data-lake", path="features/features.parquet")
raw_data.write(pl.DataFrame({"id": [1, 2, 3, 4, 5], "value": [1.5, None, 3.0, None, 4.5]}))

# %% [markdown]
# ## Tasks on different executors, one pipeline

# %%
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
def save(df: pl.LazyFrame) -> int:
    features.write(df)
    return features.read().height


@pipeline(name="ml_inference")
def ml_pipeline():
    data = extract(raw_data)           # local
    cleaned = clean(data)              # Lambda
    predictions = ml_predict(cleaned)  # Databricks
    save(predictions)                  # local
    return predictions


%glacier dag ml_pipeline

# %% [markdown]
# ## `mode="local"`: every task in this process
#
# Whatever the executor, the dev loop runs everything here: fast, debuggable, no cloud.

# %%
ml_pipeline.run(mode="local").collect()

# %% [markdown]
# ## Emulated serverless limits
#
# With `emulate=True` the Lambda task runs in a fresh Python process, as the function would,
# and is killed if it goes over its memory (here 1024 MB) or its timeout. It passes:

# %%
emulated = ml_pipeline.run(mode="local", emulate=True)
emulated.collect().equals(ml_pipeline.run(mode="local").collect())

# %% [markdown]
# A task that needs more than its function has fails here, with the limit named, instead of in
# production. This one builds ~480 MB of intermediate data in a 256 MB function:

# %%
small_lambda = provider.serverless(config=LambdaConfig(memory=256, timeout=60))


@small_lambda.task()
def explode(df: pl.LazyFrame) -> pl.LazyFrame:
    big = pl.int_range(0, 30_000_000, eager=True).to_frame("x").with_columns(y=pl.col("x") * 2)
    return df.with_columns(n=pl.lit(big.height))


@pipeline(name="too_big")
def too_big():
    return explode(extract(raw_data))


try:
    too_big.run(mode="local", emulate=True)
except PipelineError:
    pass

# %%
# NBVAL_IGNORE_OUTPUT
# (the peak memory is measured, so the number differs on every run)
print(too_big.last_run.tasks["explode"].error)

# %% [markdown]
# The run record keeps what finished; the failing task is marked `failed`:

# %%
{task: run.status for task, run in too_big.last_run.tasks.items()}

# %% [markdown]
# ## `mode="distributed"`: each task on its executor's engine
#
# Lambda and Databricks need deployed infrastructure, so a distributed run of `ml_pipeline`
# stops before any task starts and says how to deploy (notebook 05 writes the Terraform):

# %%
try:
    ml_pipeline.run(mode="distributed")
except Exception as exc:
    print(f"{type(exc).__name__}: {exc}")

# %% [markdown]
# A `DaskConfig` cluster runs for real. `DaskConfig(n_workers=2)` with no address starts a
# `LocalCluster` for each run by itself; `address=` connects to a scheduler that is already
# running (Kubernetes, Coiled, Dask Gateway ...). Here we start one `LocalCluster` on this
# machine and share it between the next two runs. The same tasks, with the cluster task on Dask:

# %%
from distributed import LocalCluster

cluster = LocalCluster(
    n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0"
)
dask_exec = provider.cluster(config=DaskConfig(address=cluster.scheduler_address))


@dask_exec.task()
def predict_on_dask(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.with_columns(pl.lit(0.9).alias("prediction"))


@local_exec.task()
def clean_here(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.filter(pl.col("value").is_not_null())


@pipeline(name="on_dask")
def on_dask():
    return predict_on_dask(clean_here(extract(raw_data)))


on_dask.run(mode="distributed").collect()

# %%
{task: (run.executor, run.status) for task, run in on_dask.last_run.tasks.items()}

# %% [markdown]
# ## A partitioned map
#
# `task.map(bucket)` runs a task once per file of a bucket (a glob path): one node in the
# DAG, one Dask task per partition, run in parallel on the workers, which read their own
# partition. The combined result comes back as one frame.

# %%
events = provider.bucket(bucket="data-lake", path="events/*.parquet")
for day in range(1, 5):
    (provider.bucket(bucket="data-lake", path=f"events/day-{day}.parquet")).write(
        pl.DataFrame({"day": [day] * 3, "amount": [day * 10.0, day * 20.0, -1.0]})
    )


@dask_exec.task()
def daily_total(part) -> pl.LazyFrame:
    return part.scan().filter(pl.col("amount") > 0).group_by("day").agg(total=pl.col("amount").sum())


@pipeline(name="daily")
def daily():
    return daily_total.map(events)


daily.run(mode="distributed").collect().sort("day")

# %%
cluster.close()
