"""Storage overhead: ``bucket.scan()`` / ``bucket.write()`` against polars on the same S3 URI.

A parquet dataset is put on moto's S3 server (loopback). Reading: a full scan
(sum of every column) through Glacier vs ``pl.scan_parquet(uri, storage_options=...)``.
Writing: ``bucket.write(df)`` (staged, then one multipart upload) vs
``df.write_parquet(uri, storage_options=...)``. Best of a few runs, interleaved.
moto serves S3 from one Python process, so absolute times are slow; the ratio is what counts.

``GLACIER_BENCH_STORAGE_MB`` sets the dataset size (default 64 MB: 500 MB does
not fit in the ~2 minute budget on the 2 shared cores this runs on).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

__all__ = ["main"]

TARGET = 1.10


def _frame(megabytes: int) -> pl.DataFrame:
    rows = megabytes * 2**20 // 16  # two hashed u64 columns barely compress: ~16 bytes a row
    return pl.select(a=pl.int_range(rows).hash(1), b=pl.int_range(rows).hash(2))


def _best(fn, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> list[dict]:
    from glacier import Provider
    from glacier.config import AwsConfig
    from tests.servers import start_s3

    megabytes = int(os.environ.get("GLACIER_BENCH_STORAGE_MB", "64"))
    runs = int(os.environ.get("GLACIER_BENCH_STORAGE_RUNS", "3"))
    rows: list[dict] = []
    with start_s3() as server:
        server.create_bucket("bench")
        provider = Provider(
            config=AwsConfig(
                endpoint_url=server.endpoint, access_key_id="testing", secret_access_key="testing"
            )
        )
        bucket = provider.bucket(bucket="bench", path="big/data.parquet")
        df = _frame(megabytes)
        bucket.write(df)
        size_mb = bucket.fs.info(bucket.get_uri())["size"] / 2**20
        uri, opts = bucket.get_uri(), bucket.storage_options

        def glacier_read() -> None:
            bucket.scan().select(pl.all().sum()).collect()

        def polars_read() -> None:
            pl.scan_parquet(uri, storage_options=opts).select(pl.all().sum()).collect()

        out = provider.bucket(bucket="bench", path="out/data.parquet")
        raw_uri = "s3://bench/out/raw.parquet"

        def glacier_write() -> None:
            out.write(df)

        def polars_write() -> None:
            df.write_parquet(raw_uri, storage_options=opts)

        pairs = {"read": (polars_read, glacier_read), "write": (polars_write, glacier_write)}
        timings: dict[str, float] = {}
        for kind, (raw, ours) in pairs.items():
            raw(), ours()  # warm up (connections, caches)
            best = {"polars": float("inf"), "glacier": float("inf")}
            for _ in range(runs):  # interleaved, so load from other processes hits both
                best["polars"] = min(best["polars"], _best(raw, 1))
                best["glacier"] = min(best["glacier"], _best(ours, 1))
            timings[f"polars_{kind}"], timings[f"glacier_{kind}"] = best["polars"], best["glacier"]
        for kind in ("read", "write"):
            ratio = timings[f"glacier_{kind}"] / timings[f"polars_{kind}"]
            rows.append(
                {
                    "name": f"storage_s3_{kind}_ratio_{size_mb:.0f}MB",
                    "value": round(ratio, 3),
                    "unit": "x",
                    "target": f"<= {TARGET}",
                    "ok": ratio <= TARGET,
                }
            )
            print(
                f"S3 {kind} {size_mb:.0f} MB parquet: glacier {timings[f'glacier_{kind}']:.2f} s, "
                f"polars {timings[f'polars_{kind}']:.2f} s, ratio {ratio:.2f}x (target <= {TARGET}x)"
            )
    return rows


if __name__ == "__main__":
    main()
