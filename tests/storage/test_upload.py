"""Streaming uploads: polars writes straight into the object store, which publishes the
object only when it is complete. Run on every backend; the store-specific settings
(S3 SSE and storage class, Azure tier, GCS KMS key) are checked on multipart objects too.
"""

from __future__ import annotations

import asyncio
import threading

import polars as pl
import pytest

from glacier import Provider
from glacier.config import AwsConfig, AzureBlobConfig, AzureConfig, GcpConfig, GCSConfig, S3Config
from glacier.storage.upload import PartUpload
from tests.faultproxy import FaultProxy
from tests.servers import GCS_PROJECT

OLD = pl.DataFrame({"v": ["old"] * 3})


def _hashes(rows: int) -> pl.LazyFrame:
    """Hashed u64 columns barely compress: about 16 bytes of parquet a row."""
    return pl.LazyFrame({"i": range(rows)}).select(a=pl.col("i").hash(1), b=pl.col("i").hash(2))


def _fails_late(rows: int = 4_000_000, after: int = 36) -> pl.LazyFrame:
    """A plan that streams 40-50 MB (two 16 MB parts and more) of its ~61 MB, then raises."""
    batches = {"n": 0}

    def count(df: pl.DataFrame) -> pl.DataFrame:
        batches["n"] += 1
        if batches["n"] > after:
            raise ValueError("the plan failed late")
        return df

    return _hashes(rows).map_batches(count, streamable=True)


@pytest.mark.slow
def test_plan_failing_mid_stream_keeps_old_object(store):
    bucket = store.at("late/t.parquet")
    bucket.write(OLD)
    with pytest.raises(ValueError, match="the plan failed late"):  # the user's own error, unchanged
        bucket.write(_fails_late())
    assert bucket.read().equals(OLD)
    assert store.at("").ls() == ["late/t.parquet"]
    if store.name == "s3":  # the multipart upload was aborted: no parts left behind
        listing = bucket.fs.call_s3("list_multipart_uploads", Bucket=store.bucket)
        assert listing.get("Uploads", []) == []


@pytest.mark.slow
def test_lazy_frame_larger_than_a_part_streams_whole(store):
    bucket = store.at("stream/t.parquet")
    bucket.write(_hashes(2_500_000))  # ~38 MB: three parts / blocks / resumable chunks
    got = bucket.scan().select(pl.len(), pl.col("a").sum(), pl.col("b").max()).collect()
    assert got.equals(_hashes(2_500_000).select(pl.len(), pl.col("a").sum(), pl.col("b").max()).collect())
    assert store.at("").ls() == ["stream/t.parquet"]


@pytest.mark.s3
@pytest.mark.parametrize("rows", [10, 1_400_000], ids=["single-put", "multipart"])
def test_s3_settings_on_every_upload(get_server, bucket_name, rows):
    server = get_server("s3")
    server.create_bucket(bucket_name)
    provider = Provider(
        config=AwsConfig(endpoint_url=server.endpoint, access_key_id="testing", secret_access_key="testing")
    )
    cfg = S3Config(storage_class="ONEZONE_IA", encryption="aws:kms", kms_key_id="alias/glacier-test")
    bucket = provider.bucket(bucket=bucket_name, path="t.parquet", config=cfg)
    frame = _hashes(rows).collect()
    bucket.write(frame)
    head = bucket.fs.call_s3("head_object", Bucket=bucket_name, Key="t.parquet")
    assert head["StorageClass"] == "ONEZONE_IA"
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["ETag"].strip('"').endswith("-2") == (rows > 10)  # a multipart object for the big one
    assert bucket.read().equals(frame)


@pytest.mark.azure
@pytest.mark.parametrize("rows", [10, 1_400_000], ids=["put-blob", "block-list"])
def test_azure_tier_on_every_upload(get_server, bucket_name, rows):
    from azure.storage.blob import BlobServiceClient

    server = get_server("azure")
    server.create_bucket(bucket_name)
    conn = server.env["AZURE_STORAGE_CONNECTION_STRING"]
    provider = Provider(config=AzureConfig(connection_string=conn))
    bucket = provider.bucket(bucket=bucket_name, path="t.parquet", config=AzureBlobConfig(tier="cool"))
    frame = _hashes(rows).collect()
    bucket.write(frame)
    with BlobServiceClient.from_connection_string(conn) as client:
        blob = client.get_blob_client(bucket_name, "t.parquet")
        assert blob.get_blob_properties().blob_tier == "Cool"
        committed = blob.get_block_list("committed")[0]
        assert len(committed) == (2 if rows > 10 else 0)  # staged blocks only for the big one
    assert bucket.read().equals(frame)


@pytest.mark.gcs
@pytest.mark.parametrize("rows", [10, 1_400_000], ids=["one-chunk", "two-chunks"])
def test_gcs_kms_key_sent_with_every_upload(get_server, bucket_name, rows):
    server = get_server("gcs")
    server.create_bucket(bucket_name)
    key = "projects/p/locations/eu/keyRings/r/cryptoKeys/glacier"
    with FaultProxy(server.endpoint) as proxy:
        provider = Provider(config=GcpConfig(project_id=GCS_PROJECT, endpoint_url=proxy.endpoint))
        bucket = provider.bucket(bucket=bucket_name, path="t.parquet", config=GCSConfig(kms_key_name=key))
        frame = _hashes(rows).collect()
        bucket.write(frame)
        uploads = [target for method, target in proxy.requests if "/upload/" in target]
        assert bucket.read().equals(frame)
    starts = [target for target in uploads if "upload_id=" not in target]
    assert len(starts) == 1 and f"kmsKeyName={key}" in starts[0]
    assert len(uploads) - 1 == (2 if rows > 10 else 1)  # 16 MB chunks: the big one in two


class _Memory(PartUpload):
    """Parts kept in memory on a real event loop: what PartUpload sends and when."""

    def __init__(self, loop: asyncio.AbstractEventLoop, fail_part: int | None = None) -> None:
        super().__init__(loop, part_size=1000, in_flight=2)
        self.parts: dict[int, bytes] = {}
        self.single: bytes | None = None
        self.object: bytes | None = None
        self.cancelled = False
        self.fail_part = fail_part

    async def _put(self, data: bytes) -> None:
        self.object = data

    async def _start(self) -> None:
        pass

    async def _part(self, number: int, data: bytes) -> int:
        if number == self.fail_part:
            raise ConnectionResetError(f"part {number} was cut off")
        self.parts[number] = data
        return number

    async def _finish(self, parts: list[int]) -> None:
        self.object = b"".join(self.parts[n] for n in parts)

    async def _cancel(self) -> None:
        self.cancelled = True


@pytest.fixture
def loop():
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()


def test_parts_are_cut_at_part_size_and_joined_in_order(loop):
    upload = _Memory(loop)
    data = bytes(range(256)) * 20  # 5,120 bytes in uneven writes
    for start in range(0, len(data), 333):
        upload.write(data[start : start + 333])
    upload.commit()
    assert upload.object == data
    assert [len(upload.parts[n]) for n in sorted(upload.parts)] == [1000] * 5 + [120]


def test_small_object_is_one_put(loop):
    upload = _Memory(loop)
    upload.write(b"x" * 999)
    upload.commit()
    assert upload.object == b"x" * 999 and upload.parts == {}


def test_part_size_doubles_every_thousand_parts(loop):
    upload = _Memory(loop)
    assert [upload._size_for(n) for n in (0, 999, 1000, 2500)] == [1000, 1000, 2000, 4000]


def test_failed_part_surfaces_its_error_and_cancels(loop):
    upload = _Memory(loop, fail_part=2)
    with pytest.raises(ConnectionResetError, match="part 2 was cut off"):
        for _ in range(10):
            upload.write(b"y" * 1000)
        upload.commit()
    assert isinstance(upload.error, ConnectionResetError)
    upload.abort()
    assert upload.cancelled and upload.object is None


def test_write_after_abort_is_refused_and_starts_nothing(loop):
    """polars can call write() from its writer thread after the sink raised: it must not
    start (and leave behind) a new multipart upload once the upload was aborted."""
    upload = _Memory(loop)
    upload.write(b"z" * 1500)  # one part sent: the upload has started
    upload.abort()
    assert upload.cancelled
    upload.cancelled = False
    with pytest.raises(OSError, match="already finished or aborted"):
        upload.write(b"z" * 5000)
    assert upload.parts.keys() == {1} and not upload.cancelled and upload.object is None
    with pytest.raises(OSError, match="already finished or aborted"):
        upload.commit()
