"""Secrets in bad config input never come back in the error (issue 19 item 6).

A misspelt secret field, a wrong-type value in a secret field and a password inside a URL
field are all masked: in ``str``/``repr`` of the ``ValidationError``, in ``errors()`` and
``json()``, in the config's repr, ``public_dict()`` and dumps, and in storage error messages.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl
import pytest
from pydantic import ValidationError

from glacier import Provider
from glacier.config import (
    AwsConfig,
    AzureConfig,
    DaskConfig,
    DatabricksConfig,
    GcpConfig,
    GlacierConfig,
    S3Config,
    SparkConfig,
)
from glacier.errors import StorageError
from tests.servers import free_port

SECRET = "Sup3rSecretCanaryValue42"

#: Every config class with a secret field, and those fields.
SECRET_FIELDS = [
    (AwsConfig, "access_key_id"),
    (AwsConfig, "secret_access_key"),
    (AwsConfig, "session_token"),
    (GcpConfig, "credentials_json"),
    (AzureConfig, "account_key"),
    (AzureConfig, "connection_string"),
    (DatabricksConfig, "token"),
]
#: Every config field holding a URL that may carry ``user:password@``.
URL_FIELDS = [
    (AwsConfig, "endpoint_url"),
    (GcpConfig, "endpoint_url"),
    (AzureConfig, "endpoint_url"),
    (S3Config, "endpoint_url"),
]


def texts_of(exc: BaseException) -> list[str]:
    out = [str(exc), repr(exc)]
    if isinstance(exc, ValidationError):
        out += [exc.json(), json.dumps(exc.errors(), default=repr), repr(exc.errors())]
    return out


def assert_hidden(exc: BaseException, *secrets: str) -> None:
    for text in texts_of(exc):
        for secret in secrets:
            assert secret not in text, text


def make(cls: type[GlacierConfig], **fields: Any) -> BaseException:
    with pytest.raises((ValidationError, ValueError, TypeError)) as info:
        cls(**fields)
    return info.value


def test_every_secret_field_is_listed():
    """The lists above cover every SecretStr field of every config class."""
    import glacier.config as gc

    found = set()
    for name in gc.__all__:
        cls = getattr(gc, name)
        for field, info in cls.model_fields.items():
            if "SecretStr" in repr(info.annotation):
                found.add((cls, field))
    assert found == set(SECRET_FIELDS)


@pytest.mark.parametrize(("cls", "field"), SECRET_FIELDS)
def test_misspelt_secret_field_is_masked_and_named(cls, field):
    misspelt = field[:-2] + field[-1]  # secret_access_key -> secret_access_ey
    exc = make(cls, **{misspelt: SECRET})
    assert_hidden(exc, SECRET)
    assert misspelt in str(exc)
    assert f"did you mean {field!r}" in str(exc)


@pytest.mark.parametrize(
    "value", [12345678901234567890, [SECRET], {"key": SECRET}, (SECRET,), b"\xff" + SECRET.encode()]
)
@pytest.mark.parametrize(("cls", "field"), SECRET_FIELDS)
def test_wrong_type_in_a_secret_field_is_masked(cls, field, value):
    exc = make(cls, **{field: value})
    assert_hidden(exc, SECRET, "12345678901234567890")
    assert field in str(exc)


def test_unknown_field_value_is_masked_whatever_its_name():
    exc = make(AwsConfig, region="us-east-1", key=SECRET)
    assert_hidden(exc, SECRET)
    assert "key" in str(exc)


def test_secret_beside_another_error_is_masked():
    exc = make(AwsConfig, region="nowhere", secret_acces_key=SECRET, access_key_id=[SECRET])
    assert_hidden(exc, SECRET)
    assert "nowhere" in str(exc)  # the non-secret bad value is still shown


def test_spark_conf_secret_values_are_masked():
    conf = {"spark.hadoop.fs.s3a.secret.key": SECRET, "spark.sql.shuffle.partitions": "8"}
    cfg = SparkConfig(conf=conf)
    assert cfg.conf == conf  # kept for the cluster
    for text in (
        repr(cfg),
        str(cfg),
        json.dumps(cfg.public_dict()),
        cfg.model_dump_json(),
        repr(cfg.model_dump()),
    ):
        assert SECRET not in text and "'8'" in text.replace('"', "'")
    exc = make(SparkConfig, conf={"spark.hadoop.fs.s3a.secret.key": [SECRET]})
    assert_hidden(exc, SECRET)


@pytest.mark.parametrize(("cls", "field"), URL_FIELDS)
def test_password_in_a_url_field_is_masked(cls, field):
    url = f"http://glacier:{SECRET}@127.0.0.1:9000"
    cfg = cls(**{field: url})
    assert getattr(cfg, field) == url  # the client still gets the whole URL
    shown = [
        repr(cfg),
        str(cfg),
        json.dumps(cfg.public_dict()),
        cfg.model_dump_json(),
        repr(cfg.model_dump()),
    ]
    for text in shown:
        assert SECRET not in text, text
    assert "glacier:***@127.0.0.1:9000" in repr(cfg)
    bad = make(cls, **{field: f"http://glacier:{SECRET}@ 127.0.0.1:9000"})  # a space: invalid
    assert_hidden(bad, SECRET)
    assert field in str(bad)


def test_token_as_url_user_is_masked():
    cfg = AwsConfig(endpoint_url=f"https://{SECRET}@s3.example.com")
    assert SECRET not in repr(cfg) and "https://***@s3.example.com" in repr(cfg)


def test_dask_address_with_credentials_is_masked():
    cfg = DaskConfig(address=f"tls://user:{SECRET}@10.0.0.1:8786")
    assert SECRET not in repr(cfg) and SECRET not in json.dumps(cfg.public_dict())


def test_databricks_host_with_credentials_is_refused_without_echo():
    """A workspace URL goes into the Terraform export: credentials belong in ``token=``."""
    exc = make(DatabricksConfig, host=f"https://token:{SECRET}@adb-1.azuredatabricks.net")
    assert_hidden(exc, SECRET)
    assert "token=" in str(exc)


@pytest.mark.parametrize(
    "config",
    [
        lambda url: AwsConfig(endpoint_url=url, access_key_id="k", secret_access_key="s"),
        lambda url: GcpConfig(project_id="my-project", endpoint_url=url),
        lambda url: AzureConfig(storage_account="devstoreaccount1", account_key="a2V5", endpoint_url=url),
    ],
    ids=["s3", "gcs", "azure"],
)
def test_unreachable_endpoint_message_masks_the_password(config):
    port = free_port()  # nothing listens there
    cfg = config(f"http://glacier:{SECRET}@127.0.0.1:{port}")
    bucket = Provider(config=cfg).bucket(bucket="data", path="x.parquet")
    for action in (bucket.exists, lambda: bucket.write(pl.DataFrame({"a": [1]}))):
        with pytest.raises(StorageError, match="unreachable") as info:
            action()
        assert SECRET not in str(info.value)
        assert f"127.0.0.1:{port}" in str(info.value)
    for text in (repr(bucket), repr(bucket.provider), json.dumps(bucket.provider.describe(), default=repr)):
        assert SECRET not in text


def test_notebook_export_warns_about_a_password_in_a_url():
    from glacier.export.secrets import find_credentials

    source = f'cfg = AwsConfig(endpoint_url="http://glacier:{SECRET}@minio:9000")\nurl = "http://minio:9000"'
    found = list(find_credentials(source))
    assert found == [(1, "a password inside a URL (user:password@)")]
    assert all(SECRET not in what for _, what in found)


def test_unreachable_dask_scheduler_message_masks_the_password(local_provider):
    from glacier import pipeline
    from glacier.errors import PipelineError

    pytest.importorskip("distributed")
    port = free_port()
    dask = local_provider.cluster(config=DaskConfig(address=f"tcp://glacier:{SECRET}@127.0.0.1:{port}"))

    @dask.task()
    def one() -> int:
        return 1

    @pipeline(name="masked_dask")
    def masked_dask():
        return one()

    with pytest.raises(PipelineError, match="cannot be reached") as info:
        masked_dask.run(mode="distributed")
    assert SECRET not in str(info.value) and f"127.0.0.1:{port}" in str(info.value)


def test_model_validate_and_json_are_masked_too():
    """Configs loaded from a dict or a JSON file go through the same masking."""
    for load in (
        lambda: AwsConfig.model_validate({"secret_acces_key": SECRET}),
        lambda: AwsConfig.model_validate_json(json.dumps({"secret_access_key": [SECRET]})),
        lambda: DatabricksConfig.model_validate_json(json.dumps({"tokn": SECRET})),
    ):
        with pytest.raises(ValidationError) as info:
            load()
        assert_hidden(info.value, SECRET)


def test_a_rewritten_message_keeps_its_braces():
    exc = make(AwsConfig, endpoint_url=f"http://glacier:{SECRET}@ h{{1}}")
    assert_hidden(exc, SECRET)
    assert "h{1}" in str(exc) and "{{" not in str(exc)
