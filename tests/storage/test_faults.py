"""A server that fails mid-upload: the write retries to success, or fails leaving the
previous object intact and no partial object (nor a dangling multipart upload).

Faults are injected by a proxy on loopback between Glacier and the real server (moto's
S3, the GCS emulator, Azurite). Which requests carry the bytes differs per store:

- S3: ``PUT`` (one object, or each part of a multipart upload);
- Azure: ``PUT`` (Put Blob, or each staged block and the block list);
- GCS: gcsfs starts a resumable session with a ``POST`` and sends the bytes in 16 MB
  chunks, each a ``POST`` to the session (``upload_id=`` in the query).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import polars as pl
import pytest

from glacier import Provider
from glacier.config import AwsConfig, AzureConfig, GcpConfig
from glacier.errors import StorageError
from tests.faultproxy import FaultProxy
from tests.servers import AZURITE_ACCOUNT, AZURITE_KEY, GCS_PROJECT

OLD = pl.DataFrame({"v": ["old"] * 3})
SMALL = pl.DataFrame({"v": ["new"] * 5})
#: The most tries of one request before a persistent fault fails the write (what bounds its time):
#: s3, botocore's first try + ``max_attempts=3`` retries (``clouds/aws/backend.py``), twice where
#: s3fs (``fs.retries = 2``) retries a SlowDown or a cut connection; azure, the first try +
#: ``ExponentialRetry(retry_total=2)`` (``clouds/azure/backend.py``), twice where aiohttp resends an
#: idempotent request whose connection was cut; gcs, gcsfs' six tries of a 5xx.
MAX_TRIES = {"s3": 8, "azure": 6, "gcs": 6}
#: Requests carrying the bytes: one for a small object, one per 16 MB part of ``_big()``.
REQUESTS = {"single": 1, "multipart": 3}


@dataclass
class Faulty:
    name: str
    proxy: FaultProxy
    faulty: Provider
    direct: Provider
    bucket: str

    def fail_uploads(self, *, times: int | None, **fault: object) -> None:
        """Make the requests that carry an object's bytes fail (a part's, on a multipart upload)."""
        if self.name == "gcs":
            self.proxy.fail(method="POST", path="upload_id=", times=times, **fault)  # type: ignore[arg-type]
        else:
            self.proxy.fail(method="PUT", times=times, **fault)  # type: ignore[arg-type]


def _provider(name: str, endpoint: str) -> Provider:
    if name == "s3":
        return Provider(
            config=AwsConfig(
                region="us-east-1",
                endpoint_url=endpoint,
                access_key_id="testing",
                secret_access_key="testing",
            )
        )
    if name == "gcs":
        return Provider(config=GcpConfig(project_id=GCS_PROJECT, endpoint_url=endpoint))
    conn = (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint={endpoint}/{AZURITE_ACCOUNT};"
    )
    return Provider(config=AzureConfig(connection_string=conn))


@pytest.fixture(params=[pytest.param(n, marks=getattr(pytest.mark, n)) for n in ("s3", "gcs", "azure")])
def via_proxy(request, get_server, bucket_name):
    name = request.param
    server = get_server(name)
    server.create_bucket(bucket_name)
    upstream = server.endpoint.removesuffix(f"/{AZURITE_ACCOUNT}")
    with FaultProxy(upstream) as proxy:
        direct = _provider(name, upstream)
        yield Faulty(name, proxy, _provider(name, proxy.endpoint), direct, bucket_name)


def _pending_uploads(direct: Provider, bucket: str) -> list[dict]:
    b = direct.bucket(bucket=bucket, path="")
    return b.fs.call_s3("list_multipart_uploads", Bucket=bucket).get("Uploads", [])


def _big(rows: int = 2_300_000) -> pl.DataFrame:  # ~36 MB of parquet: three 16 MB parts
    return pl.select(x=pl.int_range(rows).hash(3), y=pl.int_range(rows).hash(5))


@pytest.mark.parametrize("fault", [dict(status=503), dict(status=500), dict(drop=True)])
def test_transient_fault_is_retried_to_success(via_proxy, fault):
    env = via_proxy
    env.faulty.bucket(bucket=env.bucket, path="t.parquet").write(OLD)
    env.fail_uploads(times=1, **fault)
    env.faulty.bucket(bucket=env.bucket, path="t.parquet").write(SMALL)
    assert env.proxy.injected == 1
    assert env.direct.bucket(bucket=env.bucket, path="t.parquet").read().equals(SMALL)


@pytest.mark.slow
@pytest.mark.parametrize("fault", [dict(status=503), dict(drop=True)])
def test_transient_fault_on_a_part_is_retried_to_success(via_proxy, fault):
    env = via_proxy
    env.fail_uploads(times=1, **fault)
    big = _big()
    env.faulty.bucket(bucket=env.bucket, path="t.parquet").write(big)
    assert env.proxy.injected == 1
    assert env.direct.bucket(bucket=env.bucket, path="t.parquet").read().equals(big)


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
def test_persistent_fault_keeps_old_object(via_proxy, fault, size):
    env = via_proxy
    if env.name == "gcs" and fault != dict(status=500):
        pytest.skip("gcs: one fault kind per size is enough; each costs gcsfs' ~31 s of retries")
    target = env.faulty.bucket(bucket=env.bucket, path="t.parquet")
    target.write(OLD)
    big = size == "multipart"
    env.fail_uploads(times=None, **fault)
    with pytest.raises(StorageError) as info:
        target.write(_big() if big else SMALL)
    # it gives up: each request carrying the bytes is tried a bounded number of times
    tries = Counter(path for _, path, _ in env.proxy.faults())
    assert 1 <= len(tries) <= REQUESTS[size], tries
    assert max(tries.values()) <= MAX_TRIES[env.name], tries
    message = str(info.value)
    scheme = {"s3": "s3://", "gcs": "gs://", "azure": "az://"}[env.name]
    assert "\n" not in message and f"{scheme}{env.bucket}/t.parquet" in message
    assert "testing" not in message and AZURITE_KEY not in message
    env.proxy.clear()
    # the old object is intact, nothing partial is visible, no upload is left open
    assert env.direct.bucket(bucket=env.bucket, path="t.parquet").read().equals(OLD)
    assert env.direct.bucket(bucket=env.bucket, path="").ls() == ["t.parquet"]
    if env.name == "s3":
        assert _pending_uploads(env.direct, env.bucket) == []


def test_partitioned_write_failure_keeps_previous_dataset(via_proxy):
    env = via_proxy
    folder = env.faulty.bucket(bucket=env.bucket, path="ds")
    frame = pl.DataFrame({"k": [1, 2, 3], "v": ["a", "b", "c"]})
    folder.write(frame, partition_by="k")
    # a fault no client retries (retried faults: the tests above): the write fails at once
    env.fail_uploads(times=None, status=403)
    with pytest.raises(StorageError):
        folder.write(frame.with_columns(v=pl.lit("z")), partition_by="k")
    env.proxy.clear()
    # every file is whole: each reads as the old or the new partition, none partial
    got = env.direct.bucket(bucket=env.bucket, path="ds").read().sort("k")
    assert got["k"].to_list() == [1, 2, 3]
    assert set(got["v"]) <= {"a", "b", "c", "z"}
