# %% [markdown]
# # 01 · Quickstart: a pipeline, cell by cell
#
# **What it shows.** The design document's *Example 1*, built one cell at a time: a
# `Provider` whose config says where data lives, a storage resource (a bucket) and an
# execution resource (an executor), two tasks bound to the executor, a pipeline composing
# them, its DAG, previews of the data before anything runs, the run itself and its record.
#
# **How to run it.** From a clone: `make test` once (it creates `.venv` and installs the
# `glacier` kernel), then `.venv/bin/jupyter lab notebooks/01_quickstart.ipynb` and *Run All*.
# On [Binder](https://mybinder.org) this notebook opens by itself. Everything stays on this
# machine: data is written under `./data` next to the notebook.

# %%
import polars as pl

from glacier import Provider, pipeline
from glacier.config import LocalConfig

%load_ext glacier

# %% [markdown]
# ## The provider: where data lives
#
# There is one `Provider` class; the config object decides the cloud. `LocalConfig` keeps
# everything on the local disk, under `base_path`.

# %%
provider = Provider(config=LocalConfig(base_path="./data"))
provider

# %% [markdown]
# ## Resources are objects
#
# The provider creates both kinds of resource. A **bucket** is storage (its format comes from
# the path's suffix); an **executor** is where code runs. We write a small sample table into
# the bucket so the pipeline has something to read.

# %%
local_exec = provider.local()
data_source = provider.bucket(bucket="data", path="input.parquet")

data_source.write(pl.DataFrame({"id": [1, 2, 3, 4, 5, 6], "value": [3, -1, 0, 8, 5, -4]}))
data_source.exists()

# %% [markdown]
# ## Tasks are bound to an executor
#
# `@local_exec.task()` binds a function to the executor. Tasks pass polars `LazyFrame`s, so
# nothing is computed until a result is needed.

# %%
@local_exec.task()
def load(source) -> pl.LazyFrame:
    return source.scan()


@local_exec.task()
def transform(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.filter(pl.col("value") > 0)


local_exec

# %% [markdown]
# ## A pipeline composes the tasks
#
# Calling tasks inside `@pipeline` does not run them: it traces them into a DAG of nodes.

# %%
@pipeline(name="simple")
def simple_pipeline():
    data = load(data_source)
    result = transform(data)
    return result


list(simple_pipeline.graph.nodes)

# %% [markdown]
# `%glacier dag` draws the DAG (interactive where widgets are available): buckets on the left,
# tasks coloured by executor.

# %%
%glacier dag simple_pipeline

# %% [markdown]
# ## Look at the data before running
#
# `%glacier preview` shows the first rows and the schema of a bucket, a LazyFrame or a
# task's output (`PIPELINE.TASK` runs only that task and what it needs).

# %%
%glacier preview data_source -n 3

# %%
%glacier preview simple_pipeline.transform

# %% [markdown]
# ## Run it
#
# `run(mode="local")` runs every task in this process and returns what the pipeline function
# returns, with values in place of task outputs.

# %%
result = simple_pipeline.run(mode="local")
result.collect()

# %% [markdown]
# `%glacier run` does the same from a magic, showing each task's status live in the DAG as it
# runs (parameters go as `--param key=value`):

# %%
result = %glacier run simple_pipeline
result.collect()

# %% [markdown]
# The run record keeps each task's status, duration and row count.

# %%
simple_pipeline.last_run

# %% [markdown]
# ## Next
#
# * [02 · Cloud portability](02_cloud_portability.ipynb): the same pipeline on S3.
# * [04 · Caching and iteration](04_caching_and_iteration.ipynb): edit a task, re-run, only it recomputes.
# * `%glacier help` lists every notebook command.
