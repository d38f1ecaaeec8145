"""Bad input against real servers: one-line errors naming the URI and what to check,
with no client retry loop in between, and no secret in any message or repr."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

import polars as pl
import pytest

from glacier import Provider
from glacier.config import AwsConfig, AzureConfig, GcpConfig, LocalConfig, S3Config
from glacier.errors import ConfigError, StorageError
from tests.servers import AZURITE_KEY, free_port, start_s3

FRAME = pl.DataFrame({"a": [1, 2, 3]})
SECRET = "s3cr3t-Value-That-Must-Not-Leak"

#: port -> the connection attempts made to it while watched (``socket.connect`` audit events,
#: from every thread and event loop of this process).
_CONNECTS: dict[int, list[object]] = {}


def _audit(event: str, args: tuple) -> None:
    if event == "socket.connect" and isinstance(args[1], tuple) and args[1][1] in _CONNECTS:
        _CONNECTS[args[1][1]].append(args[1])


sys.addaudithook(_audit)  # hooks stay for the process; it records only ports being watched


@contextlib.contextmanager
def connects_to(port: int) -> Iterator[list[object]]:
    """The connection attempts made to ``port`` on loopback inside the block."""
    _CONNECTS[port] = seen = []
    try:
        yield seen
    finally:
        del _CONNECTS[port]


@pytest.mark.parametrize(
    ("config", "name"),
    [
        (LocalConfig(), "a/b"),
        (AwsConfig(region="us-east-1"), "My_Bucket"),
        (AwsConfig(region="us-east-1"), "192.168.1.1"),
        (AwsConfig(region="us-east-1"), "ab"),
        (GcpConfig(project_id="my-project"), "goog-data"),
        (GcpConfig(project_id="my-project"), "my-google-data"),
        (AzureConfig(), "my.container"),
        (AzureConfig(), "a--b"),
        (AzureConfig(), "-data"),
    ],
)
def test_bucket_names_rejected_when_declared(config, name):
    with pytest.raises(ConfigError, match="bucket name") as info:
        Provider(config=config).bucket(bucket=name, path="x.parquet")
    assert "for example" in str(info.value)


def test_missing_object_and_bucket(store):
    with pytest.raises(StorageError, match=r"no object at \S+/missing\.csv: write it first") as info:
        store.at("missing.csv").read()
    assert "\n" not in str(info.value)
    if store.name == "local":
        return
    nobucket = store.provider.bucket(bucket="no-such-bucket-here", path="x.parquet")
    assert not nobucket.exists()
    with pytest.raises(StorageError, match="no-such-bucket-here"):
        nobucket.read()
    with pytest.raises(StorageError, match=r"bucket 'no-such-bucket-here' does not exist; create it") as info:
        nobucket.write(FRAME)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(
            lambda port: AwsConfig(
                endpoint_url=f"http://127.0.0.1:{port}", access_key_id="k", secret_access_key=SECRET
            ),
            marks=pytest.mark.s3,
            id="s3",
        ),
        pytest.param(
            lambda port: GcpConfig(project_id="my-project", endpoint_url=f"http://127.0.0.1:{port}"),
            marks=pytest.mark.gcs,
            id="gcs",
        ),
        pytest.param(
            lambda port: AzureConfig(
                connection_string=(
                    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
                    f"AccountKey={AZURITE_KEY};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
                )
            ),
            marks=pytest.mark.azure,
            id="azure",
        ),
    ],
)
def test_unreachable_endpoint_fails_fast(make):
    port = free_port()  # nothing listens there
    bucket = Provider(config=make(port)).bucket(bucket="data", path="x.parquet")
    for action in (bucket.read, lambda: bucket.write(FRAME), bucket.exists):
        with (
            connects_to(port) as attempts,
            pytest.raises(
                StorageError, match=r"unreachable; check the endpoint \(http://127\.0\.0\.1"
            ) as info,
        ):
            action()
        # fast: one refused connect (the preflight) answers; the client's retries never start
        assert len(attempts) == 1, attempts
        text = str(info.value)
        assert "\n" not in text and bucket.get_uri() in text
        assert SECRET not in text and AZURITE_KEY not in text


@pytest.mark.azure
def test_wrong_credentials_azure(get_server, bucket_name):
    server = get_server("azure")
    server.create_bucket(bucket_name)
    wrong = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleQ=="
    config = AzureConfig(storage_account="devstoreaccount1", account_key=wrong, endpoint_url=server.endpoint)
    bucket = Provider(config=config).bucket(bucket=bucket_name, path="x.parquet")
    for action in (bucket.read, lambda: bucket.write(FRAME)):
        with pytest.raises(StorageError, match="access denied; check AZURE_STORAGE") as info:
            action()
        assert wrong not in str(info.value) and "\n" not in str(info.value)
    assert wrong not in repr(config) and wrong not in repr(bucket)


@pytest.mark.s3
def test_wrong_credentials_s3():
    with start_s3(auth=True) as server:
        config = AwsConfig(endpoint_url=server.endpoint, access_key_id="AKIAWRONG", secret_access_key=SECRET)
        bucket = Provider(config=config).bucket(bucket="data", path="x.parquet")
        for action in (bucket.read, lambda: bucket.write(FRAME)):
            with pytest.raises(StorageError, match="access denied; check AWS_ACCESS_KEY_ID") as info:
                action()
            assert SECRET not in str(info.value) and "\n" not in str(info.value)
        assert SECRET not in repr(config) and SECRET not in repr(bucket)
        assert SECRET not in repr(Provider(config=config).describe())


@pytest.mark.s3
def test_s3_storage_config_applied_on_upload(get_server, bucket_name):
    server = get_server("s3")
    server.create_bucket(bucket_name)
    provider = Provider(
        config=AwsConfig(endpoint_url=server.endpoint, access_key_id="testing", secret_access_key="testing")
    )
    bucket = provider.bucket(
        bucket=bucket_name,
        path="t.parquet",
        config=S3Config(storage_class="STANDARD_IA", encryption="AES256"),
    )
    bucket.write(FRAME)
    head = bucket.fs.call_s3("head_object", Bucket=bucket_name, Key="t.parquet")
    assert head["StorageClass"] == "STANDARD_IA"
    assert head["ServerSideEncryption"] == "AES256"
    assert bucket.read().equals(FRAME)


@pytest.mark.azure
def test_azure_tier_applied_on_upload(get_server, bucket_name):
    from glacier.config import AzureBlobConfig

    server = get_server("azure")
    server.create_bucket(bucket_name)
    provider = Provider(config=AzureConfig(connection_string=server.env["AZURE_STORAGE_CONNECTION_STRING"]))
    bucket = provider.bucket(bucket=bucket_name, path="t.csv", config=AzureBlobConfig(tier="cool"))
    bucket.write(FRAME)
    from azure.storage.blob import BlobServiceClient

    client = BlobServiceClient.from_connection_string(server.env["AZURE_STORAGE_CONNECTION_STRING"])
    assert client.get_blob_client(bucket_name, "t.csv").get_blob_properties().blob_tier == "Cool"
    client.close()
    assert bucket.read().equals(FRAME)


@pytest.mark.parametrize(
    ("text", "server"),
    [
        # polars' object store names the request's duration: 500-504 ms is not a status code
        (
            "Generic S3 error: Error performing GET http://127.0.0.1:1/b/k in 503.057162ms, after 0 retries",
            False,
        ),
        ("Generic S3 error: Error performing PUT http://127.0.0.1:1/b/k in 1.502s - HTTP error 400", False),
        ("Generic S3 error: HTTP status server error (503 Service Unavailable) for url (http://h/b/k)", True),
        ("Server responded with status: 500, body: oops", True),
    ],
)
def test_a_duration_is_not_read_as_a_server_status(text, server):
    from glacier.storage.errors import classify

    assert (classify(RuntimeError(text)) == "server") is server
