"""Library messages that contain a configured secret are scrubbed (issue 19 item 7).

Through the real error path: an endpoint (:class:`tests.storage.echo.EchoServer`) answers
with an error in the cloud's own format that repeats the request's credentials and a
configured secret; s3fs, polars' object store, azure-storage-blob and gcsfs turn it into
their exception text, and Glacier's ``StorageError`` must carry none of it. Then
:func:`glacier.storage.errors.scrub` directly, with each cloud's secret kinds in the shapes
libraries print them (URL-encoded, inside JSON, a line of a PEM key, a query string).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import polars as pl
import pytest

from glacier import Provider
from glacier.config import AwsConfig, AzureConfig, GcpConfig
from glacier.errors import StorageError
from glacier.storage.errors import classify, scrub
from tests.storage.echo import EchoServer

KEY_ID = "AKIAECHOCANARY123456"
SECRET = "EchoCanarySecret/abc+DEF0123456789xyzUVW"
TOKEN = "EchoCanaryToken/Fwo+GZXIvYXdzEJr//////////wEaDEcho=="
AZURE_KEY = "RWNob0NhbmFyeUF6dXJlS2V5MDEyMzQ1Njc4OWFiY2RlZmdoaWpr"
FRAME = pl.DataFrame({"a": [1, 2, 3]})


def actions(bucket: Any) -> dict[str, Callable[[], Any]]:
    return {
        "exists": bucket.exists,
        "read": bucket.read,
        "scan": lambda: bucket.scan().collect(),
        "write": lambda: bucket.write(FRAME),
        "ls": bucket.ls,
    }


def failures(bucket: Any) -> dict[str, str]:
    """Every action's ``StorageError`` text (and that of its chain, which must be empty)."""
    out = {}
    for name, action in actions(bucket).items():
        with pytest.raises(StorageError) as info:
            action()
        exc = info.value
        assert exc.__cause__ is None and exc.__context__ is None, name  # nothing unscrubbed behind it
        out[name] = f"{exc} {exc!r}"
    return out


def assert_scrubbed(texts: dict[str, str], *secrets: str) -> None:
    for name, text in texts.items():
        assert "\n" not in text.split(" StorageError(")[0], (name, text)
        for secret in secrets:
            # a prefix too: a message cut at 300 characters may keep the start of a secret
            assert secret[:10] not in text, (name, secret, text)


@pytest.mark.s3
def test_s3_error_echoing_the_credentials_is_scrubbed():
    with EchoServer("s3", echo=f"key {SECRET} id {KEY_ID}") as server:
        config = AwsConfig(
            endpoint_url=server.endpoint, access_key_id=KEY_ID, secret_access_key=SECRET, session_token=TOKEN
        )
        texts = failures(Provider(config=config).bucket(bucket="data", path="x.parquet"))
    assert_scrubbed(texts, KEY_ID, SECRET, TOKEN)
    assert "InvalidArgument" in texts["read"] or "400" in texts["read"]
    assert "***" in texts["write"]  # the detail is kept, the secret in it replaced


@pytest.mark.s3
def test_s3_error_echoing_environment_credentials_is_scrubbed(monkeypatch):
    """Credentials from the standard variables, not the config, are scrubbed too."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
    with EchoServer("s3", echo=f"key {SECRET}") as server:
        bucket = Provider(config=AwsConfig(endpoint_url=server.endpoint)).bucket(bucket="data", path="x.csv")
        texts = failures(bucket)
    assert_scrubbed(texts, KEY_ID, SECRET, TOKEN)


@pytest.mark.azure
@pytest.mark.parametrize("how", ["account_key", "connection_string"])
def test_azure_error_echoing_the_key_is_scrubbed(how):
    with EchoServer("azure") as server:
        blob = f"{server.endpoint}/devstoreaccount1"
        conn = f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURE_KEY};BlobEndpoint={blob};"
        server.echo = f"key {AZURE_KEY} conn {conn}"
        if how == "account_key":
            config = AzureConfig(storage_account="devstoreaccount1", account_key=AZURE_KEY, endpoint_url=blob)
        else:
            config = AzureConfig(connection_string=conn)
        texts = failures(Provider(config=config).bucket(bucket="data", path="x.parquet"))
    assert_scrubbed(texts, AZURE_KEY)


def service_account(token_uri: str) -> tuple[str, dict[str, str]]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "my-project",
        "private_key_id": "echocanarykeyid0123456789abcdef",
        "private_key": pem,
        "client_email": "glacier@my-project.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }
    return json.dumps(info), info


@pytest.mark.gcs
def test_gcs_error_echoing_the_service_account_key_is_scrubbed():
    with EchoServer("gcs") as server:
        text, info = service_account(f"{server.endpoint}/token")
        pem_line = info["private_key"].splitlines()[5]
        server.echo = f"kid {info['private_key_id']} line {pem_line}"
        config = GcpConfig(project_id="my-project", endpoint_url=server.endpoint, credentials_json=text)
        texts = failures(Provider(config=config).bucket(bucket="data", path="x.parquet"))
    assert_scrubbed(texts, info["private_key_id"], pem_line)


# -- scrub() with each cloud's secret kinds, as libraries print them ------------------------------
PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7echocanaryline"
SA_JSON = json.dumps(
    {
        "type": "service_account",
        "private_key_id": "0123456789abcdefechocanary",
        "private_key": f"-----BEGIN PRIVATE KEY-----\n{PEM_BODY}\nAAAA\n-----END PRIVATE KEY-----\n",
        "client_email": "x@y.iam.gserviceaccount.com",
    }
)


@pytest.mark.parametrize(
    ("secrets", "message", "hidden"),
    [
        ((SECRET,), f"An error occurred (SignatureDoesNotMatch): secret {SECRET} was used", SECRET),
        ((KEY_ID,), f"Credential={KEY_ID}/20240101/us-east-1/s3/aws4_request", KEY_ID),
        ((TOKEN,), f"GET /b/k?X-Amz-Security-Token={quote(TOKEN, safe='')}&x=1", quote(TOKEN, safe="")),
        ((TOKEN,), f"header x-amz-security-token: {TOKEN}", TOKEN),
        ((), f"GET /b/k?X-Amz-Security-Token={quote(TOKEN, safe='')}", quote(TOKEN, safe="")),
        ((AZURE_KEY,), f"ValueError: AccountKey={AZURE_KEY};BlobEndpoint=http://h", AZURE_KEY),
        ((), f"conn string AccountName=a;AccountKey={AZURE_KEY};", AZURE_KEY),
        (
            (),
            "https://a.blob.core.windows.net/c/b?sv=2024&sig=c2lnbmF0dXJlY2FuYXJ5%3D",
            "c2lnbmF0dXJlY2FuYXJ5",
        ),
        ((SA_JSON,), f"MalformedError: key {PEM_BODY} could not be read", PEM_BODY),
        ((SA_JSON,), "RefreshError: invalid key id 0123456789abcdefechocanary", "0123456789abcdefechocanary"),
        ((SA_JSON,), f"cannot parse {json.dumps(SA_JSON)}", "0123456789abcdefechocanary"),
        ((), "Error performing GET http://glacier:Echo-Url-Pass@127.0.0.1:9/b/k", "Echo-Url-Pass"),
        ((), "Authorization: Bearer dapiEchoCanaryDatabricks0123", "dapiEchoCanaryDatabricks0123"),
    ],
)
def test_scrub_hides_each_secret_kind(secrets, message, hidden):
    out = scrub(message, secrets)
    assert hidden not in out
    assert "***" in out


def test_scrub_keeps_the_rest_on_one_line():
    out = scrub(f"OSError: [Errno 5] bad\nrequest with {SECRET}\n  in data/x.parquet", (SECRET,))
    assert out == "OSError: [Errno 5] bad request with *** in data/x.parquet"


def test_scrub_leaves_short_and_empty_secrets_alone():
    assert scrub("a b c", ("", "a")) == "a b c"


def test_a_404_inside_a_signature_is_not_a_missing_object():
    """Found here: echoed signatures are hex, and ``...a404b...`` made a 400 look like "no object"."""
    assert classify(OSError(22, "bad request Signature=9f0a404b1c")) is None
    assert classify(OSError(5, "HTTP 404 Not Found")) == "missing"
