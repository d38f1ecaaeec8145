"""Deterministic sample data for the demo, the examples and the benchmarks."""

from __future__ import annotations

from typing import Any

import polars as pl

__all__ = ["make_orders", "make_customers", "write_sample_data", "REGIONS"]

REGIONS = ("north", "south", "east", "west", "central")


def make_customers(n: int = 1_000) -> pl.DataFrame:
    """``n`` customers with a region each (deterministic)."""
    ids = pl.int_range(0, n, eager=True, dtype=pl.Int64)
    return pl.DataFrame(
        {
            "customer_id": ids,
            "region": [REGIONS[i % len(REGIONS)] for i in range(n)],
            "segment": [("retail", "wholesale", "online")[(i * 7) % 3] for i in range(n)],
        }
    )


def make_orders(rows: int, customers: int = 1_000) -> pl.DataFrame:
    """``rows`` orders; amounts and statuses derived from the row number (no RNG state)."""
    i = pl.int_range(0, rows, eager=True, dtype=pl.Int64)
    df = pl.DataFrame({"order_id": i})
    return df.with_columns(
        customer_id=(pl.col("order_id") * 7919) % customers,
        amount=(((pl.col("order_id") * 104729) % 100_000) / 100.0 - 50.0),
        status=pl.when(pl.col("order_id") % 17 == 0).then(pl.lit("cancelled")).otherwise(pl.lit("shipped")),
        day=(pl.col("order_id") % 28 + 1).cast(pl.Int32),
    )


def write_sample_data(provider: Any, orders: Any, customers: Any, *, rows: int = 200_000) -> None:
    """Write the orders and customers tables to their buckets (skipped when present)."""
    if not customers.exists():
        customers.write(make_customers())
    if not orders.exists():
        orders.write(make_orders(rows))
