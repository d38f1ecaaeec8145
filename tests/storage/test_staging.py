"""What a reader sees while Glacier writes: never a staged file, never a gap, never a leftover.

Staging lives where no reader looks (local: ``<base_path>/.glacier/staging``, object stores:
uploads that are invisible until committed); a killed writer's leftovers go with the next
write; names Glacier itself writes (``.a.parquet``, ``_b.parquet``, 248 characters long)
are data like any other.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from glacier import Provider
from glacier.config import LocalConfig
from glacier.errors import BucketPathError, StorageError
from tests.storage.support import provider_for, server_for

ROWS = 200_000


def frame(rows: int, seed: int = 0) -> pl.DataFrame:
    return pl.DataFrame({"id": range(seed, seed + rows), "value": [float(seed)] * rows})


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


# -- names ------------------------------------------------------------------------------------------
def test_nul_byte_in_a_bucket_path_is_one_clear_error_at_creation(tmp_path):
    provider = Provider(config=LocalConfig(base_path=str(tmp_path)))
    with pytest.raises(BucketPathError, match=r"NUL.*'raw/a\\x00b.parquet'|'raw/a\\x00b.parquet'.*NUL"):
        provider.bucket(bucket="data", path="raw/a\x00b.parquet")
    with pytest.raises(BucketPathError, match="reserved"):
        provider.bucket(bucket="data", path="raw/.glacier/x.parquet")


def test_a_long_name_polars_can_write_is_written(store):
    name = "n" * 240 + ".parquet"  # 248 characters: the longest a staging suffix used to break
    bucket = store.at(f"long/{name}")
    bucket.write(frame(10))
    assert bucket.read().height == 10
    assert store.at("long").ls() == [f"long/{name}"]


def test_names_glacier_wrote_with_a_dot_or_underscore_are_data(store):
    for name in (".a.parquet", "_b.parquet", "c.parquet"):
        store.at(f"dot/{name}").write(frame(5))
    folder = store.at("dot")
    fs, uri = folder.fs, folder.get_uri()
    fs.pipe_file(f"{uri}/_SUCCESS", b"")  # markers other tools leave stay out of the data
    fs.pipe_file(f"{uri}/.c.parquet.crc", b"crc")
    assert folder.ls() == ["dot/.a.parquet", "dot/_b.parquet", "dot/c.parquet"]
    assert folder.read().height == 15
    assert store.at("dot/*.parquet").read().height == 15


# -- concurrent readers ------------------------------------------------------------------------------
def _read_while(folder, writer: threading.Thread, expected: set[int], least: int) -> tuple[int, list[str]]:
    """Read ``folder`` until ``writer`` is done (and at least ``least`` times); return reads and faults."""
    reads, faults = 0, []
    while writer.is_alive() or reads < least:
        try:
            height = folder.read().height
        except StorageError as exc:
            faults.append(f"error: {exc}")
        else:
            if height not in expected:
                faults.append(f"{height} rows")
        reads += 1
    return reads, faults


def test_a_folder_read_while_one_file_is_rewritten_counts_every_row_once(store):
    rows = ROWS if store.name == "local" else 20_000
    store.at("ds/a.parquet").write(frame(rows))
    store.at("ds/b.parquet").write(frame(rows, 1))
    rewrites = 40 if store.name == "local" else 6

    def rewrite() -> None:
        for i in range(rewrites):
            store.at("ds/b.parquet").write(frame(rows, i).lazy())  # a LazyFrame streams through staging

    writer = threading.Thread(target=rewrite)
    writer.start()
    reads, faults = _read_while(store.at("ds"), writer, {2 * rows}, least=20)
    writer.join()
    assert reads >= 20 and faults == []
    assert store.at("ds").ls() == ["ds/a.parquet", "ds/b.parquet"]


def test_a_partitioned_rewrite_is_seen_whole_old_or_whole_new(local_provider):
    folder = local_provider.bucket(bucket="data", path="pds")
    small = pl.DataFrame({"year": [2024, 2024, 2025, 2025], "v": [1, 2, 3, 4]})
    large = pl.DataFrame({"year": [2024, 2025, 2026, 2026, 2026, 2026], "v": [1, 2, 3, 4, 5, 6]})
    folder.write(small, partition_by="year")

    def rewrite() -> None:
        for i in range(150):
            folder.write(large if i % 2 == 0 else small, partition_by="year")

    writer = threading.Thread(target=rewrite)
    writer.start()
    reads, faults = _read_while(folder, writer, {4, 6}, least=50)
    writer.join()
    assert reads >= 50 and faults == []
    base = Path(local_provider.config.base_path)
    assert not [f for f in files_under(base) if "glacier-tmp" in f]


# -- a killed writer -----------------------------------------------------------------------------------
CHILD = """
import sys
import polars as pl
from glacier import Provider
from glacier.config import LocalConfig

bucket = Provider(config=LocalConfig(base_path=sys.argv[1])).bucket(bucket="data", path="ds/b.parquet")
big = pl.LazyFrame({"id": range(3_000_000)}).with_columns(value=pl.col("id") * 2.5)
while True:
    bucket.write(big)
"""


def _kill_mid_write(base: Path, known: set[str]) -> set[str]:
    """Start a writer, kill -9 it while it has a staged file; return the files it left."""
    for _ in range(20):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(base)], env=os.environ.copy())
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not (files_under(base) - known):
                time.sleep(0.005)
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
        left = files_under(base) - known
        if left:
            return left
    pytest.fail("the writer was never caught with a staged file")


def test_a_killed_writer_leaves_nothing_a_reader_sees_and_the_next_write_cleans_up(tmp_path):
    provider = Provider(config=LocalConfig(base_path=str(tmp_path)))
    a, b = (
        provider.bucket(bucket="data", path="ds/a.parquet"),
        provider.bucket(bucket="data", path="ds/b.parquet"),
    )
    a.write(frame(100))
    b.write(frame(100, 7))
    known = files_under(tmp_path)
    left = _kill_mid_write(tmp_path, known)
    assert all(not f.startswith("data/") for f in left), left  # staged outside every bucket
    folder = provider.bucket(bucket="data", path="ds")
    assert folder.ls() == ["ds/a.parquet", "ds/b.parquet"]
    assert provider.bucket(bucket="data", path="").ls() == ["ds/a.parquet", "ds/b.parquet"]
    assert folder.read().height == 200
    provider.bucket(bucket="other", path="x.parquet").write(frame(1))  # any write sweeps
    assert files_under(tmp_path) == known | {"other/x.parquet"}


# -- S3: multipart uploads a killed writer left open ------------------------------------------------------
@pytest.mark.s3
def test_the_next_write_aborts_stale_multipart_uploads_of_its_key(
    servers, bucket_name, tmp_path, monkeypatch
):
    import boto3

    from glacier.clouds.aws import upload

    server = server_for(servers, "s3")
    server.create_bucket(bucket_name)
    client = boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    # what a writer killed in the middle of a large write leaves: an open multipart upload
    for key in ("out/data.parquet", "elsewhere/other.parquet"):
        started = client.create_multipart_upload(Bucket=bucket_name, Key=key)
        client.upload_part(
            Bucket=bucket_name, Key=key, UploadId=started["UploadId"], PartNumber=1, Body=b"x" * 1024
        )
    provider = provider_for("s3", server, tmp_path)
    target = provider.bucket(bucket=bucket_name, path="out/data.parquet")
    target.write(frame(10))  # an upload that moved a moment ago may be a live writer's: kept
    assert len(client.list_multipart_uploads(Bucket=bucket_name).get("Uploads", [])) == 2
    monkeypatch.setattr(upload, "STALE_UPLOAD_AGE", timedelta(0))  # now any idle upload is stale
    target.write(frame(10))
    open_keys = [u["Key"] for u in client.list_multipart_uploads(Bucket=bucket_name).get("Uploads", [])]
    assert open_keys == ["elsewhere/other.parquet"]  # its own key only
    assert provider.bucket(bucket=bucket_name, path="out/data.parquet").read().height == 10
