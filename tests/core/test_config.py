"""Config models: validation against the clouds' real limits, frozen, no unknown fields."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

import glacier.config as gc
from glacier.config import (
    AwsConfig,
    AzureBlobConfig,
    AzureConfig,
    AzureFunctionConfig,
    CloudFunctionConfig,
    DaskConfig,
    DatabricksConfig,
    EC2Config,
    GcpConfig,
    LambdaConfig,
    LocalConfig,
    S3Config,
)


def test_public_surface_is_pinned():
    assert sorted(gc.__all__) == sorted(
        [
            "GlacierConfig", "ProviderConfig", "StorageConfig", "ExecutionConfig",
            "LocalConfig", "AwsConfig", "GcpConfig", "AzureConfig",
            "S3Config", "GCSConfig", "AzureBlobConfig",
            "LambdaConfig", "CloudFunctionConfig", "AzureFunctionConfig",
            "EC2Config", "ComputeEngineConfig", "AzureVMConfig",
            "DatabricksConfig", "SparkConfig", "EMRConfig", "DataprocConfig", "DaskConfig",
        ]
    )  # fmt: skip
    for name in gc.__all__:
        assert getattr(gc, name).__name__ == name
    from glacier.config import execution, providers, storage

    for module in (providers, storage, execution):  # a config added to a module is exported too
        assert set(module.__all__) <= set(gc.__all__), module.__name__


@pytest.mark.parametrize(
    ("factory", "field"),
    [
        (lambda: LambdaConfig(memory=127), "memory"),
        (lambda: LambdaConfig(memory=10241), "memory"),
        (lambda: LambdaConfig(timeout=901), "timeout"),
        (lambda: LambdaConfig(timeout=0), "timeout"),
        (lambda: LambdaConfig(runtime="python2.7"), "runtime"),
        (lambda: CloudFunctionConfig(timeout=3601), "timeout"),
        (lambda: AzureFunctionConfig(timeout=601), "timeout"),
        (lambda: AwsConfig(region="mars-1"), "region"),
        (lambda: AwsConfig(region="US-EAST-1"), "region"),
        (lambda: AwsConfig(account_id="123"), "account_id"),
        (lambda: GcpConfig(project_id="My_Project"), "project_id"),
        (lambda: GcpConfig(project_id="abc"), "project_id"),
        (lambda: AzureConfig(subscription_id="not-a-uuid"), "subscription_id"),
        (lambda: AzureConfig(storage_account="Has-Caps"), "storage_account"),
        (lambda: EC2Config(ami="ami-xyz"), "ami"),
        (lambda: EC2Config(instance_type="large"), "instance_type"),
        (lambda: S3Config(storage_class="COLD"), "storage_class"),
        (lambda: AzureBlobConfig(tier="warm"), "tier"),
        (lambda: DaskConfig(n_workers=0), "n_workers"),
        (lambda: DaskConfig(address="127.0.0.1:8786"), "address"),
        (lambda: DatabricksConfig(num_workers=-1), "num_workers"),
        (lambda: LocalConfig(base_path=""), "base_path"),
    ],
)
def test_out_of_range_values_name_the_field(factory, field):
    with pytest.raises(ValidationError) as info:
        factory()
    assert info.value.errors()[0]["loc"] == (field,)


def test_valid_values_at_the_limits():
    assert LambdaConfig(memory=128, timeout=900).memory == 128
    assert LambdaConfig(memory=10240).memory == 10240
    assert AwsConfig(region="eu-central-1").region == "eu-central-1"
    assert AwsConfig(region="us-gov-west-1").region == "us-gov-west-1"
    assert GcpConfig(project_id="my-project").project_id == "my-project"
    sub = "12345678-1234-1234-1234-123456789abc"
    assert AzureConfig(subscription_id=sub).subscription_id == sub


def test_configs_are_frozen_and_forbid_unknown_fields():
    cfg = LambdaConfig(memory=1024)
    with pytest.raises(ValidationError):
        cfg.memory = 2048  # type: ignore[misc]
    with pytest.raises(ValidationError) as info:
        LambdaConfig(memroy=1024)  # type: ignore[call-arg]
    assert "memroy" in str(info.value)


def test_positional_arguments_are_refused_except_ellipsis():
    with pytest.raises(TypeError, match="keyword arguments only"):
        LambdaConfig(1024)  # type: ignore[misc]
    assert DatabricksConfig(...) == DatabricksConfig()


def test_ellipsis_reads_the_environment(monkeypatch):
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "env-project")
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", "12345678-1234-1234-1234-123456789abc")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert GcpConfig(...).project_id == "env-project"
    assert AzureConfig(...).subscription_id == "12345678-1234-1234-1234-123456789abc"
    assert AwsConfig().region == "eu-west-1"
    assert AwsConfig(region="us-east-1").region == "us-east-1"


def test_secrets_never_show():
    cfg = AwsConfig(
        access_key_id=SecretStr("AKIACANARY123"), secret_access_key=SecretStr("canary-secret-xyz")
    )
    az = AzureConfig(
        account_key=SecretStr("canary-key"), connection_string=SecretStr("AccountKey=canary-conn")
    )
    for text in (repr(cfg), str(cfg), repr(az), str(cfg.public_dict()), str(az.public_dict())):
        assert "canary" not in text
        assert "AKIACANARY" not in text
    assert cfg.secret_access_key.get_secret_value() == "canary-secret-xyz"


def test_repr_is_short_and_shows_explicit_fields():
    assert repr(LambdaConfig(memory=1024)) == "LambdaConfig(memory=1024)"
    assert repr(AwsConfig(region="us-east-1")) == "AwsConfig(region='us-east-1')"
