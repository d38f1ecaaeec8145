"""Storage configs: how a bucket is stored (class, encryption, versioning)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from glacier.config._base import GlacierConfig, matching

__all__ = ["StorageConfig", "S3Config", "GCSConfig", "AzureBlobConfig"]


class StorageConfig(GlacierConfig):
    """Base of the storage configs."""


class S3Config(StorageConfig, cloud="aws", service="Amazon S3"):
    """An Amazon S3 bucket.

    Examples
    --------
    >>> S3Config(versioning=True, encryption="AES256")
    S3Config(encryption='AES256', versioning=True)
    """

    storage_class: Literal[
        "STANDARD",
        "INTELLIGENT_TIERING",
        "STANDARD_IA",
        "ONEZONE_IA",
        "GLACIER_IR",
        "GLACIER",
        "DEEP_ARCHIVE",
    ] = "STANDARD"
    encryption: Literal["AES256", "aws:kms"] = "AES256"
    kms_key_id: str | None = None
    versioning: bool = True
    transition_days: int | None = Field(None, ge=1, le=36500)
    expiration_days: int | None = Field(None, ge=1, le=36500)
    endpoint_url: Annotated[
        str | None, matching(r"https?://\S+", "endpoint URL", "http://127.0.0.1:5000")
    ] = None


class GCSConfig(StorageConfig, cloud="gcp", service="Google Cloud Storage"):
    """A Google Cloud Storage bucket.

    Examples
    --------
    >>> GCSConfig(storage_class="NEARLINE")
    GCSConfig(storage_class='NEARLINE')
    """

    storage_class: Literal["STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE"] = "STANDARD"
    location: str | None = None
    versioning: bool = True
    uniform_access: bool = True
    kms_key_name: str | None = None
    retention_days: int | None = Field(None, ge=1, le=36500)


class AzureBlobConfig(StorageConfig, cloud="azure", service="Azure Blob Storage"):
    """An Azure Blob Storage container.

    Examples
    --------
    >>> AzureBlobConfig(tier="hot", encryption=True)
    AzureBlobConfig(tier='hot', encryption=True)
    """

    tier: Literal["hot", "cool", "cold", "archive"] = "hot"
    encryption: bool = True
    versioning: bool = True
    replication: Literal["LRS", "ZRS", "GRS", "RAGRS", "GZRS", "RAGZRS"] = "LRS"
