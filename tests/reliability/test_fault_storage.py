"""Fault matrix, object storage: the S3 server (moto, real) behind a fault-injecting proxy
answers 500/503, drops connections, or is stopped in the middle of a run.

For each fault: the run record says what happened, finished outputs are intact, no partial
object (nor an unfinished multipart upload) is left, and the error names the task, the
resource and what to check.
"""

from __future__ import annotations

import os

import boto3
import polars as pl
import pytest

from glacier import PipelineError, Provider
from glacier.config import AwsConfig
from tests.faultproxy import FaultProxy
from tests.helpers import ORDERS, build_etl, summary_of

pytestmark = pytest.mark.s3

IN = ORDERS
OLD = pl.DataFrame({"id": [0], "value": [42]})
STEPS = ("extract", "clean", "summarise", "publish")


@pytest.fixture
def env(s3_server, monkeypatch):
    """A fresh bucket holding the input and an older output, and a proxy in front of S3."""
    bucket = f"fault-{os.urandom(4).hex()}"
    s3_server.create_bucket(bucket)
    for key in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    direct = Provider(
        config=AwsConfig(
            region="us-east-1",
            endpoint_url=s3_server.endpoint,
            access_key_id="testing",
            secret_access_key="testing",
        )
    )
    direct.bucket(bucket=bucket, path="raw/in.parquet").write(IN)
    direct.bucket(bucket=bucket, path="curated/out.parquet").write(OLD)
    client = boto3.client(
        "s3",
        endpoint_url=s3_server.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    with FaultProxy(s3_server.endpoint) as proxy:
        provider = Provider(
            config=AwsConfig(
                region="us-east-1",
                endpoint_url=proxy.endpoint,
                access_key_id="testing",
                secret_access_key="testing",
            )
        )
        yield provider, proxy, client, bucket, direct


def etl(provider, bucket, *, between=None):
    """The shared ETL reading ``raw/in.parquet`` and publishing ``curated/out.parquet`` in ``bucket``."""
    return build_etl(
        provider,
        raw=provider.bucket(bucket=bucket, path="raw/in.parquet"),
        out=provider.bucket(bucket=bucket, path="curated/out.parquet"),
        eager=True,
        between=between,
        name="s3_etl",
    ).pipeline


def keys(client, bucket) -> set[str]:
    return {o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])}


def assert_nothing_partial(client, bucket, direct, *, output: pl.DataFrame) -> None:
    assert keys(client, bucket) == {"raw/in.parquet", "curated/out.parquet"}
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    got = direct.bucket(bucket=bucket, path="curated/out.parquet").read()
    assert got.equals(output)


def test_transient_503_is_retried_and_the_run_succeeds(env):
    provider, proxy, client, bucket, direct = env
    budget = {"n": 2}

    def rule(method, path):
        if budget["n"] and method in ("GET", "PUT"):
            budget["n"] -= 1
            return 503
        return None

    proxy.rule = rule
    p = etl(provider, bucket)
    assert p.run(mode="local").collect().equals(summary_of(IN))
    assert p.last_run.status == "done"
    assert len(proxy.faults()) == 2
    assert_nothing_partial(client, bucket, direct, output=summary_of(IN))


@pytest.mark.parametrize("fault", [500, 503, "drop"])
def test_write_keeps_failing(env, fault):
    provider, proxy, client, bucket, direct = env
    proxy.rule = lambda method, path: fault if method in ("PUT", "POST") and "curated" in path else None
    p = etl(provider, bucket)
    with pytest.raises(PipelineError) as info:
        p.run(mode="local")
    record = p.last_run
    assert record.status == "failed"
    # the upstream plans only ran inside publish's write, which failed: not shown as finished
    assert [record[n].status for n in STEPS] == ["planned", "planned", "planned", "failed"]
    assert {record[n].note for n in STEPS[:3]} == {"its plan was not computed: the run failed"}
    message = str(info.value)
    assert "'publish'" in message and f"s3://{bucket}/curated/out.parquet" in message
    assert proxy.faults()
    assert_nothing_partial(client, bucket, direct, output=OLD)


@pytest.mark.parametrize("fault", [500, "drop"])
def test_read_keeps_failing(env, fault):
    provider, proxy, client, bucket, direct = env
    proxy.rule = lambda method, path: fault if method == "GET" and "raw" in path else None
    p = etl(provider, bucket)
    with pytest.raises(PipelineError) as info:
        p.run(mode="local")
    record = p.last_run
    assert [record[n].status for n in STEPS] == ["failed", "skipped", "skipped", "skipped"]
    message = str(info.value)
    assert "'extract'" in message and f"s3://{bucket}/raw/in.parquet" in message
    assert_nothing_partial(client, bucket, direct, output=OLD)


def test_server_stopped_mid_run(env):
    provider, proxy, client, bucket, direct = env

    p = etl(provider, bucket, between=proxy.stop)  # the port closes, open connections are cut
    with pytest.raises(PipelineError) as info:
        p.run(mode="local")
    record = p.last_run
    # the upstream plans only ran inside publish's write, which failed: not shown as finished
    assert [record[n].status for n in STEPS] == ["planned", "planned", "planned", "failed"]
    assert {record[n].note for n in STEPS[:3]} == {"its plan was not computed: the run failed"}
    message = str(info.value)
    assert "'publish'" in message and "unreachable" in message and proxy.endpoint in message
    assert_nothing_partial(client, bucket, direct, output=OLD)


@pytest.mark.parametrize(
    ("method", "where", "fault"),
    [("PUT", "curated", 500), ("GET", "raw", "drop")],
)
def test_server_errors_say_what_to_check(env, method, where, fault):
    """Found here: 5xx after retries read 'OSError: [Errno 121] injected 500', and failed reads
    were polars' raw object-store text."""
    provider, proxy, client, bucket, direct = env
    proxy.rule = lambda m, path: fault if m in (method, "POST") and where in path else None
    p = etl(provider, bucket)
    with pytest.raises(PipelineError) as info:
        p.run(mode="local")
    message = str(info.value)
    assert "StorageError" in message and "check" in message
