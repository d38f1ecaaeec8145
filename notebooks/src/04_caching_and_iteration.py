# %% [markdown]
# # 04 · Caching and iteration: edit a task, re-run, only it recomputes
#
# **What it shows.** The notebook loop with `@executor.task(cache=True)`: the first run
# computes every task; an unchanged re-run takes every output from the cache; after editing
# one task, only that task (and what depends on it) recomputes, while the tasks upstream of
# it stay cached. Changing the input data invalidates the tasks that read it. The run record
# and its timeline show what happened.
#
# **How to run it.** `.venv/bin/jupyter lab notebooks/04_caching_and_iteration.ipynb` (after
# `make test` once, which installs the `glacier` kernel), then *Run All*. The cache lives in
# `.glacier/cache` next to the notebook (`GLACIER_CACHE_DIR` moves it); data under `./data`.

# %%
import polars as pl

from glacier import Provider, pipeline
from glacier.config import LocalConfig

%load_ext glacier

provider = Provider(config=LocalConfig(base_path="./data"))
local_exec = provider.local()
orders = provider.bucket(bucket="shop", path="orders.parquet")

# deterministic sample orders: 200,000 rows, 1,000 customers
n = 200_000
orders.write(
    pl.DataFrame({"order_id": pl.int_range(0, n, eager=True)}).with_columns(
        customer_id=pl.col("order_id") * 7919 % 1_000,
        amount=(pl.col("order_id") * 104_729 % 100_000) / 100.0 - 50.0,
    )
)

# %% [markdown]
# ## A pipeline of cached tasks
#
# `cache=True` stores each task's output under a key made of its source code, its executor's
# config, its arguments and the fingerprints of the buckets it reads.

# %%
@local_exec.task(cache=True)
def extract(source) -> pl.LazyFrame:
    return source.scan()


@local_exec.task(cache=True)
def clean(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.filter(pl.col("amount") > 0)


@local_exec.task(cache=True)
def per_customer(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.group_by("customer_id").agg(revenue=pl.col("amount").sum())


@local_exec.task(cache=True)
def top(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.sort("revenue", "customer_id", descending=[True, False]).head(3)


@pipeline(name="revenue")
def revenue():
    return top(per_customer(clean(extract(orders))))


%glacier dag revenue

# %% [markdown]
# ## First run: everything computes

# %%
revenue.run(mode="local").collect()

# %%
revenue.last_run.cache_hits

# %% [markdown]
# ## Re-run unchanged: everything comes from the cache

# %%
revenue.run(mode="local")
revenue.last_run.cache_hits

# %% [markdown]
# ## Edit one task and re-run
#
# We change `per_customer` to count orders as well. Re-running the cell that defines a task
# replaces it; the next run sees new source code, so `per_customer` and `top` (whose input
# changed) recompute while `extract` and `clean` stay cached.

# %%
@local_exec.task(cache=True)
def per_customer(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.group_by("customer_id").agg(revenue=pl.col("amount").sum(), orders=pl.len())


revenue.run(mode="local").collect()

# %%
rec = revenue.last_run
{"from the cache": rec.cache_hits, "recomputed": [t for t in rec.tasks if t not in rec.cache_hits]}

# %% [markdown]
# ## The run record and its timeline
#
# One row per task: status, duration, rows, whether it was a cache hit; the bars below the
# table place each task on the run's clock.

# %%
revenue.last_run

# %% [markdown]
# The same record as a polars frame, for your own analysis (timings left out here because
# they differ on every run):

# %%
revenue.last_run.to_polars().select("node", "status", "cached", "rows")

# %% [markdown]
# ## New data invalidates what reads it
#
# Overwriting the bucket changes its fingerprint: every task downstream of `orders`
# recomputes on the next run.

# %%
orders.write(orders.read().head(100_000))
revenue.run(mode="local")
revenue.last_run.cache_hits
