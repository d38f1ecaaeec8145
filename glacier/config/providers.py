"""Provider configs: which cloud (or the local disk) a ``Provider`` talks to."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator

from glacier.config._base import GlacierConfig, from_env, matching

__all__ = ["LocalConfig", "AwsConfig", "GcpConfig", "AzureConfig", "ProviderConfig"]

_URL = r"https?://\S+"
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_AZURE_ID = matching(_UUID, "Azure id (a UUID)", "00000000-0000-0000-0000-000000000000")


class ProviderConfig(GlacierConfig):
    """Base of the four provider configs."""


class LocalConfig(ProviderConfig, cloud="local", service="local disk"):
    """Data on the local disk under ``base_path``; code runs on this machine.

    Examples
    --------
    >>> LocalConfig(base_path="./data")
    LocalConfig(base_path='./data')
    """

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


class AwsConfig(ProviderConfig, cloud="aws", service="AWS"):
    """Amazon Web Services. Unset fields follow the standard AWS credential chain
    (``AWS_PROFILE``, ``AWS_ACCESS_KEY_ID``, ``AWS_ENDPOINT_URL`` ...).

    Examples
    --------
    >>> AwsConfig(region="us-east-1")
    AwsConfig(region='us-east-1')
    """

    region: Annotated[
        str, matching(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}", "AWS region", "us-east-1")
    ] = Field(default_factory=from_env("AWS_REGION", "AWS_DEFAULT_REGION", default="us-east-1"))
    account_id: Annotated[str | None, matching(r"\d{12}", "AWS account id (12 digits)", "123456789012")] = (
        None
    )
    profile: str | None = None
    endpoint_url: Annotated[str | None, matching(_URL, "endpoint URL", "http://127.0.0.1:5000")] = None
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None
    session_token: SecretStr | None = None


class GcpConfig(ProviderConfig, cloud="gcp", service="Google Cloud"):
    """Google Cloud. Unset fields follow Application Default Credentials
    (``GOOGLE_APPLICATION_CREDENTIALS``, ``GOOGLE_CLOUD_PROJECT``, ``STORAGE_EMULATOR_HOST``).

    Examples
    --------
    >>> GcpConfig(project_id="my-project")
    GcpConfig(project_id='my-project')
    """

    project_id: Annotated[
        str | None,
        matching(
            r"[a-z][a-z0-9-]{4,28}[a-z0-9]",
            "GCP project id (6-30 lowercase letters, digits, hyphens)",
            "my-project",
        ),
    ] = Field(default_factory=from_env("GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "GCP_PROJECT"))
    region: Annotated[str, matching(r"[a-z]+-[a-z]+\d{1,2}", "GCP region", "us-central1")] = "us-central1"
    credentials_file: str | None = None
    credentials_json: SecretStr | None = None
    endpoint_url: Annotated[str | None, matching(_URL, "endpoint URL", "http://127.0.0.1:9023")] = None


class AzureConfig(ProviderConfig, cloud="azure", service="Azure"):
    """Microsoft Azure. Unset fields follow ``AZURE_SUBSCRIPTION_ID``,
    ``AZURE_STORAGE_ACCOUNT``, ``AZURE_STORAGE_KEY`` and ``AZURE_STORAGE_CONNECTION_STRING``.

    Examples
    --------
    >>> AzureConfig(subscription_id="00000000-0000-0000-0000-000000000000")
    AzureConfig(subscription_id='00000000-0000-0000-0000-000000000000')
    """

    subscription_id: Annotated[str | None, _AZURE_ID] = Field(
        default_factory=from_env("AZURE_SUBSCRIPTION_ID")
    )
    tenant_id: Annotated[str | None, _AZURE_ID] = None
    location: Annotated[str, matching(r"[a-z]+[a-z0-9]*", "Azure location", "eastus")] = "eastus"
    resource_group: Annotated[
        str | None, matching(r"[-\w.()]{0,89}[-\w()]", "resource group name", "glacier-rg")
    ] = None
    storage_account: Annotated[
        str | None,
        matching(r"[a-z0-9]{3,24}", "storage account name (3-24 lowercase letters or digits)", "glacierdata"),
    ] = Field(default_factory=from_env("AZURE_STORAGE_ACCOUNT"))
    account_key: SecretStr | None = None
    connection_string: SecretStr | None = None
    endpoint_url: Annotated[
        str | None, matching(_URL, "endpoint URL", "http://127.0.0.1:10000/devstoreaccount1")
    ] = None
