"""Storage overhead: ``bucket.scan()`` / ``bucket.write()`` against polars on the same S3 URIs.

Reading: a parquet dataset of ``GLACIER_BENCH_STORAGE_MB`` (default 512) split in 32 MB
files is put on moto's S3 server (loopback); a full scan (sum of every column) of the
folder through ``provider.bucket(path="big").scan()`` runs against
``pl.scan_parquet("s3://.../big/*.parquet", storage_options=...)``.
Writing: one object of the same size, ``bucket.write(df)`` (a streaming multipart
upload, published only when complete) against ``df.write_parquet(uri, storage_options=...)``.
Best of a few runs, interleaved. moto serves S3 from one Python process, so absolute
times are slow; the ratio is what counts. (moto copies a whole object for every ranged
GET, which is why the dataset is split in files: a run on one 512 MB object did not finish in 12 minutes.)
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
#: File size of the read dataset (moto copies a whole object for every ranged GET).
FILE_MB = 32


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

    megabytes = int(os.environ.get("GLACIER_BENCH_STORAGE_MB", "512"))
    runs = int(os.environ.get("GLACIER_BENCH_STORAGE_RUNS", "3"))
    rows: list[dict] = []
    with start_s3() as server:
        server.create_bucket("bench")
        provider = Provider(
            config=AwsConfig(
                endpoint_url=server.endpoint, access_key_id="testing", secret_access_key="testing"
            )
        )
        df = _frame(megabytes)
        files = max(1, megabytes // FILE_MB)
        folder = provider.bucket(bucket="bench", path="big")
        for index, part in enumerate(df.iter_slices(-(-df.height // files))):
            (folder / f"part-{index:03d}.parquet").write(part)
        fs = folder.fs
        size_mb = sum(fs.info(f)["size"] for f in fs.find(folder.get_uri())) / 2**20
        opts = folder.storage_options
        glob = f"{folder.get_uri()}/*.parquet"

        def glacier_read() -> None:
            folder.scan().select(pl.all().sum()).collect()

        def polars_read() -> None:
            pl.scan_parquet(glob, storage_options=opts).select(pl.all().sum()).collect()

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
        what = {"read": f"a dataset of {files} files", "write": "one object"}
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
                f"S3 {kind} {size_mb:.0f} MB parquet ({what[kind]}): glacier {timings[f'glacier_{kind}']:.2f} s, "
                f"polars {timings[f'polars_{kind}']:.2f} s, ratio {ratio:.2f}x (target <= {TARGET}x)"
            )
    return rows


if __name__ == "__main__":
    main()
