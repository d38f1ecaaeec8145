"""Pipelines the lineage tests run (importable, unlike conftest)."""

from __future__ import annotations

from types import SimpleNamespace

import polars as pl

from glacier import Provider, pipeline

__all__ = ["sales", "ORDERS", "CUSTOMERS"]

ORDERS = pl.DataFrame(
    {"order_id": [1, 2, 3, 4, 5], "customer_id": [1, 1, 2, 3, 3], "amount": [10.0, -1.0, 5.0, 7.5, 2.5]}
)
CUSTOMERS = pl.DataFrame(
    {"customer_id": [1, 2, 3], "name": ["ann", "bob", "cy"], "region": ["north", "south", "north"]}
)


def sales(provider: Provider, *, cache: bool = False, bucket: str = "shop") -> SimpleNamespace:
    """Join + aggregate + rename: orders and customers -> revenue per region.

    Tasks: ``extract`` (twice: ``extract`` and ``extract_2``), ``valid`` (filter),
    ``enrich`` (join), ``by_region`` (group by + aggregations), ``report`` (rename + a
    derived column); ``save`` writes the report to a bucket.
    """
    ex = provider.local()
    orders = provider.bucket(bucket=bucket, path="orders.parquet")
    customers = provider.bucket(bucket=bucket, path="customers.parquet")
    target = provider.bucket(bucket=bucket, path="report.parquet")
    orders.write(ORDERS)
    customers.write(CUSTOMERS)

    @ex.task(cache=cache)
    def extract(source) -> pl.LazyFrame:
        return source.scan()

    @ex.task(cache=cache)
    def valid(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.filter(pl.col("amount") > 0)

    @ex.task(cache=cache)
    def enrich(df: pl.LazyFrame, people: pl.LazyFrame) -> pl.LazyFrame:
        return df.join(people, on="customer_id", how="inner")

    @ex.task(cache=cache)
    def by_region(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.group_by("region").agg(
            pl.col("amount").sum().alias("revenue"), pl.col("order_id").n_unique().alias("orders")
        )

    @ex.task(cache=cache)
    def report(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.rename({"region": "sales_region"}).with_columns(
            (pl.col("revenue") * 100).cast(pl.Int64).alias("revenue_cents")
        )

    @ex.task()
    def save(df: pl.LazyFrame, out) -> int:
        out.write(df)
        return 1

    @pipeline(name="sales")
    def run_sales():
        joined = enrich(valid(extract(orders)), extract(customers))
        return report(by_region(joined))

    @pipeline(name="sales_saved")
    def run_saved():
        joined = enrich(valid(extract(orders)), extract(customers))
        return save(report(by_region(joined)), target)

    return SimpleNamespace(
        pipeline=run_sales, saved=run_saved, orders=orders, customers=customers, target=target
    )
