"""A server that fails mid-upload: the write retries to success, or fails leaving the
previous object intact and no partial object (nor a dangling multipart upload).

Faults are injected by a proxy on loopback between Glacier and moto's S3 server.
"""

from __future__ import annotations

import time

import polars as pl
import pytest

from glacier import Provider
from glacier.config import AwsConfig
from glacier.errors import StorageError
from tests.faultproxy import FaultProxy

pytestmark = pytest.mark.s3

OLD = pl.DataFrame({"v": ["old"] * 3})


@pytest.fixture
def s3_via_proxy(get_server, bucket_name):
    server = get_server("s3")
    bucket = bucket_name
    server.create_bucket(bucket)
    with FaultProxy(server.endpoint) as proxy:
        cfg = dict(region="us-east-1", access_key_id="testing", secret_access_key="testing")
        faulty = Provider(config=AwsConfig(endpoint_url=proxy.endpoint, **cfg))
        direct = Provider(config=AwsConfig(endpoint_url=server.endpoint, **cfg))
        yield proxy, faulty, direct, bucket


def _pending_uploads(direct: Provider, bucket: str) -> list[dict]:
    b = direct.bucket(bucket=bucket, path="")
    return b.fs.call_s3("list_multipart_uploads", Bucket=bucket).get("Uploads", [])


def _big(rows: int = 2_300_000) -> pl.DataFrame:  # ~36 MB of parquet: three 16 MB parts
    return pl.select(x=pl.int_range(rows).hash(3), y=pl.int_range(rows).hash(5))


@pytest.mark.parametrize("fault", [dict(status=503), dict(status=500), dict(drop=True)])
def test_transient_fault_is_retried_to_success(s3_via_proxy, fault):
    proxy, faulty, direct, bucket = s3_via_proxy
    faulty.bucket(bucket=bucket, path="t.parquet").write(OLD)
    proxy.fail(method="PUT", times=1, **fault)
    new = pl.DataFrame({"v": ["new"] * 5})
    faulty.bucket(bucket=bucket, path="t.parquet").write(new)
    assert proxy.injected == 1
    assert direct.bucket(bucket=bucket, path="t.parquet").read().equals(new)


@pytest.mark.parametrize(
    ("fault", "size"),
    [
        (dict(status=500), "single"),
        (dict(status=503), "single"),
        (dict(drop=True), "single"),
        (dict(status=500), "multipart"),
        (dict(drop=True), "multipart"),
    ],
)
def test_persistent_fault_keeps_old_object(s3_via_proxy, fault, size):
    proxy, faulty, direct, bucket = s3_via_proxy
    target = faulty.bucket(bucket=bucket, path="t.parquet")
    target.write(OLD)
    proxy.fail(method="PUT", times=None, **fault)
    frame = _big() if size == "multipart" else pl.DataFrame({"v": ["new"] * 5})
    start = time.monotonic()
    with pytest.raises(StorageError) as info:
        target.write(frame)
    assert time.monotonic() - start < 30
    message = str(info.value)
    assert "\n" not in message and "s3://" in message and "testing" not in message
    proxy.clear()
    # the old object is intact, nothing partial is visible, no upload is left open
    assert direct.bucket(bucket=bucket, path="t.parquet").read().equals(OLD)
    assert direct.bucket(bucket=bucket, path="").ls() == ["t.parquet"]
    assert _pending_uploads(direct, bucket) == []


def test_partitioned_write_failure_keeps_previous_dataset(s3_via_proxy):
    proxy, faulty, direct, bucket = s3_via_proxy
    folder = faulty.bucket(bucket=bucket, path="ds")
    frame = pl.DataFrame({"k": [1, 2, 3], "v": ["a", "b", "c"]})
    folder.write(frame, partition_by="k")
    proxy.fail(method="PUT", times=None, status=500)
    with pytest.raises(StorageError):
        folder.write(frame.with_columns(v=pl.lit("z")), partition_by="k")
    proxy.clear()
    # every file is whole: each reads as the old or the new partition, none partial
    got = direct.bucket(bucket=bucket, path="ds").read().sort("k")
    assert got["k"].to_list() == [1, 2, 3]
