"""The main job on the embedded default: a LocalConfig ETL over generated sample data.

Run with ``make demo`` (or ``python examples/demo.py``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sample_data import write_sample_data

from glacier import Provider, pipeline
from glacier.config import LocalConfig

BASE = Path(os.environ.get("GLACIER_DEMO_DIR", Path(__file__).resolve().parent.parent / ".glacier" / "demo"))

provider = Provider(config=LocalConfig(base_path=str(BASE)))
local_exec = provider.local()

orders = provider.bucket(bucket="raw", path="orders.parquet")
customers = provider.bucket(bucket="raw", path="customers.parquet")
report = provider.bucket(bucket="curated", path="revenue_by_region.parquet")


@local_exec.task()
def extract(source) -> pl.LazyFrame:
    """Read the raw orders."""
    return source.scan()


@local_exec.task()
def clean(orders: pl.LazyFrame) -> pl.LazyFrame:
    """Drop cancelled orders and non-positive amounts."""
    return orders.filter((pl.col("status") != "cancelled") & (pl.col("amount") > 0))


@local_exec.task()
def enrich(orders: pl.LazyFrame, customers) -> pl.LazyFrame:
    """Attach each order's customer region."""
    return orders.join(customers.scan(), on="customer_id", how="inner")


@local_exec.task()
def aggregate(orders: pl.LazyFrame) -> pl.LazyFrame:
    """Revenue and order count per region."""
    return (
        orders.group_by("region")
        .agg(pl.col("amount").sum().round(2).alias("revenue"), pl.len().alias("orders"))
        .sort("region")
    )


@local_exec.task()
def publish(summary: pl.LazyFrame, target) -> pl.LazyFrame:
    """Write the report atomically and pass it on."""
    target.write(summary)
    return target.scan()


@pipeline(name="revenue")
def revenue_pipeline():
    """Orders -> clean -> join customers -> revenue per region -> curated parquet."""
    raw = extract(orders)
    enriched = enrich(clean(raw), customers)
    return publish(aggregate(enriched), report)


def main() -> None:
    write_sample_data(provider, orders, customers, rows=200_000)
    result = revenue_pipeline.run(mode="local", progress=False)
    with pl.Config(fmt_float="full", float_precision=2, thousands_separator=True):
        print(result.collect())
    print(revenue_pipeline.last_run.summary())
    print(f"output written to {report.get_uri()}")


if __name__ == "__main__":
    main()
