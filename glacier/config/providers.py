"""Provider configs: which cloud (or the local disk) a ``Provider`` talks to."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr, field_validator

from glacier.config._base import GlacierConfig, check_pattern, from_env

__all__ = ["LocalConfig", "AwsConfig", "GcpConfig", "AzureConfig", "ProviderConfig"]

_AWS_REGION = r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}"
_GCP_REGION = r"[a-z]+-[a-z]+\d{1,2}"
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


class ProviderConfig(GlacierConfig):
    """Base of the four provider configs."""

    cloud: ClassVar[str] = ""


class LocalConfig(ProviderConfig):
    """Data on the local disk under ``base_path``; code runs on this machine.

    Examples
    --------
    >>> LocalConfig(base_path="./data")
    LocalConfig(base_path='./data')
    """

    cloud: ClassVar[str] = "local"
    service: ClassVar[str] = "local disk"

    base_path: str = Field("./data", description="Folder holding every bucket.")

    @field_validator("base_path", mode="before")
    @classmethod
    def _path(cls, value: object) -> object:
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, (bytes, bytearray)):
            value = bytes(value).decode("utf-8", "surrogateescape")
        if isinstance(value, str) and not value.strip():
            raise ValueError("base_path must not be empty (for example './data')")
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("base_path must not contain a NUL character (for example './data')")
        return value


class AwsConfig(ProviderConfig):
    """Amazon Web Services. Unset fields follow the standard AWS credential chain
    (``AWS_PROFILE``, ``AWS_ACCESS_KEY_ID``, ``AWS_ENDPOINT_URL`` ...).

    Examples
    --------
    >>> AwsConfig(region="us-east-1")
    AwsConfig(region='us-east-1')
    """

    cloud: ClassVar[str] = "aws"
    service: ClassVar[str] = "AWS"

    region: str = Field(default_factory=from_env("AWS_REGION", "AWS_DEFAULT_REGION", default="us-east-1"))
    account_id: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None
    session_token: SecretStr | None = None

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return check_pattern(value, _AWS_REGION, "AWS region", "us-east-1")  # type: ignore[return-value]

    @field_validator("account_id")
    @classmethod
    def _account(cls, value: str | None) -> str | None:
        return check_pattern(value, r"\d{12}", "AWS account id (12 digits)", "123456789012")

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        return check_pattern(value, r"https?://\S+", "endpoint URL", "http://127.0.0.1:5000")


class GcpConfig(ProviderConfig):
    """Google Cloud. Unset fields follow Application Default Credentials
    (``GOOGLE_APPLICATION_CREDENTIALS``, ``GOOGLE_CLOUD_PROJECT``, ``STORAGE_EMULATOR_HOST``).

    Examples
    --------
    >>> GcpConfig(project_id="my-project")
    GcpConfig(project_id='my-project')
    """

    cloud: ClassVar[str] = "gcp"
    service: ClassVar[str] = "Google Cloud"

    project_id: str | None = Field(
        default_factory=from_env("GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "GCP_PROJECT")
    )
    region: str = "us-central1"
    credentials_file: str | None = None
    credentials_json: SecretStr | None = None
    endpoint_url: str | None = None

    @field_validator("project_id")
    @classmethod
    def _project(cls, value: str | None) -> str | None:
        return check_pattern(
            value,
            r"[a-z][a-z0-9-]{4,28}[a-z0-9]",
            "GCP project id (6-30 lowercase letters, digits, hyphens)",
            "my-project",
        )

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return check_pattern(value, _GCP_REGION, "GCP region", "us-central1")  # type: ignore[return-value]

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        return check_pattern(value, r"https?://\S+", "endpoint URL", "http://127.0.0.1:9023")


class AzureConfig(ProviderConfig):
    """Microsoft Azure. Unset fields follow ``AZURE_SUBSCRIPTION_ID``,
    ``AZURE_STORAGE_ACCOUNT``, ``AZURE_STORAGE_KEY`` and ``AZURE_STORAGE_CONNECTION_STRING``.

    Examples
    --------
    >>> AzureConfig(subscription_id="00000000-0000-0000-0000-000000000000")
    AzureConfig(subscription_id='00000000-0000-0000-0000-000000000000')
    """

    cloud: ClassVar[str] = "azure"
    service: ClassVar[str] = "Azure"

    subscription_id: str | None = Field(default_factory=from_env("AZURE_SUBSCRIPTION_ID"))
    tenant_id: str | None = None
    location: str = "eastus"
    resource_group: str | None = None
    storage_account: str | None = Field(default_factory=from_env("AZURE_STORAGE_ACCOUNT"))
    account_key: SecretStr | None = None
    connection_string: SecretStr | None = None
    endpoint_url: str | None = None

    @field_validator("subscription_id", "tenant_id")
    @classmethod
    def _uuid(cls, value: str | None) -> str | None:
        return check_pattern(value, _UUID, "Azure id (a UUID)", "00000000-0000-0000-0000-000000000000")

    @field_validator("location")
    @classmethod
    def _location(cls, value: str) -> str:
        return check_pattern(value, r"[a-z]+[a-z0-9]*", "Azure location", "eastus")  # type: ignore[return-value]

    @field_validator("resource_group")
    @classmethod
    def _rg(cls, value: str | None) -> str | None:
        return check_pattern(value, r"[-\w.()]{0,89}[-\w()]", "resource group name", "glacier-rg")

    @field_validator("storage_account")
    @classmethod
    def _account(cls, value: str | None) -> str | None:
        return check_pattern(
            value, r"[a-z0-9]{3,24}", "storage account name (3-24 lowercase letters or digits)", "glacierdata"
        )

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        return check_pattern(
            value, r"https?://\S+", "endpoint URL", "http://127.0.0.1:10000/devstoreaccount1"
        )
