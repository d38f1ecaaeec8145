"""The 5-step ETL used by the benchmarks, as a Glacier pipeline and as one polars query.

Run as a script: ``python _etl.py glacier|polars|eager DATA_DIR`` does the work once in a
fresh process and prints ``seconds peak_rss_kb`` (the whole-process benchmark).
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import polars as pl

ROWS = 10_000_000
DIM_ROWS = 100_000


def make_data(folder: Path, rows: int = ROWS) -> None:
    """Write the fact table and the 100k-row dimension once (deterministic)."""
    folder.mkdir(parents=True, exist_ok=True)
    facts, dims = folder / "raw" / "events.parquet", folder / "raw" / "customers.parquet"
    if facts.exists() and dims.exists() and pl.scan_parquet(facts).select(pl.len()).collect().item() == rows:
        return
    facts.parent.mkdir(parents=True, exist_ok=True)
    i = pl.int_range(0, rows, eager=True, dtype=pl.Int64)
    pl.DataFrame({"event_id": i}).with_columns(
        customer_id=(pl.col("event_id") * 7919) % DIM_ROWS,
        amount=((pl.col("event_id") * 104729) % 100_000) / 100.0 - 5.0,
        status=pl.when(pl.col("event_id") % 13 == 0).then(pl.lit("void")).otherwise(pl.lit("ok")),
    ).write_parquet(facts)
    j = pl.int_range(0, DIM_ROWS, eager=True, dtype=pl.Int64)
    pl.DataFrame({"customer_id": j}).with_columns(
        region=(pl.col("customer_id") % 50).cast(pl.String), tier=(pl.col("customer_id") % 3).cast(pl.Int8)
    ).write_parquet(dims)


def polars_query(folder: Path) -> None:
    """The same work as one lazy polars query."""
    facts = pl.scan_parquet(folder / "raw" / "events.parquet")
    dims = pl.scan_parquet(folder / "raw" / "customers.parquet")
    (
        facts.filter((pl.col("status") == "ok") & (pl.col("amount") > 0))
        .join(dims, on="customer_id", how="inner")
        .group_by("region", "tier")
        .agg(pl.col("amount").sum().alias("revenue"), pl.len().alias("events"))
        .sort("region", "tier")
        .sink_parquet(folder / "out" / "polars.parquet", mkdir=True)
    )


def polars_eager(folder: Path) -> None:
    """The anti-pattern: a collect after every step."""
    facts = pl.scan_parquet(folder / "raw" / "events.parquet").collect()
    clean = facts.filter((pl.col("status") == "ok") & (pl.col("amount") > 0))
    joined = clean.join(pl.read_parquet(folder / "raw" / "customers.parquet"), on="customer_id", how="inner")
    agg = joined.group_by("region", "tier").agg(
        pl.col("amount").sum().alias("revenue"), pl.len().alias("events")
    )
    (folder / "out").mkdir(exist_ok=True)
    agg.sort("region", "tier").write_parquet(folder / "out" / "eager.parquet")


def build_pipeline(folder: Path, *, cache: bool = False):
    """The 5-step ETL as a Glacier pipeline on a LocalConfig provider rooted at ``folder``."""
    from glacier import Provider, pipeline
    from glacier.config import LocalConfig

    provider = Provider(config=LocalConfig(base_path=str(folder)))
    ex = provider.local()
    events = provider.bucket(bucket="raw", path="events.parquet")
    customers = provider.bucket(bucket="raw", path="customers.parquet")
    target = provider.bucket(bucket="out", path="glacier.parquet")

    @ex.task(cache=cache)
    def extract(source) -> pl.LazyFrame:
        return source.scan()

    @ex.task(cache=cache)
    def clean(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.filter((pl.col("status") == "ok") & (pl.col("amount") > 0))

    @ex.task(cache=cache)
    def join(df: pl.LazyFrame, dims) -> pl.LazyFrame:
        return df.join(dims.scan(), on="customer_id", how="inner")

    @ex.task(cache=cache)
    def aggregate(df: pl.LazyFrame) -> pl.LazyFrame:
        return (
            df.group_by("region", "tier")
            .agg(pl.col("amount").sum().alias("revenue"), pl.len().alias("events"))
            .sort("region", "tier")
        )

    @ex.task(cache=cache)
    def write(df: pl.LazyFrame, out) -> pl.LazyFrame:
        out.write(df)
        return out.scan()

    @pipeline(name="etl5")
    def etl():
        return write(aggregate(join(clean(extract(events)), customers)), target)

    return etl


def main() -> None:
    kind, folder = sys.argv[1], Path(sys.argv[2])
    start = time.perf_counter()
    if kind == "glacier":
        build_pipeline(folder).run(mode="local", progress=False)
    elif kind == "polars":
        polars_query(folder)
    else:
        polars_eager(folder)
    elapsed = time.perf_counter() - start
    print(f"{elapsed:.4f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")


if __name__ == "__main__":
    main()
