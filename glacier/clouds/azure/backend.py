"""Microsoft Azure: Blob Storage, Azure Functions, Azure VMs; Spark through Databricks."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

from glacier.clouds.backend import ObjectStore, Services
from glacier.config.execution import AzureFunctionConfig, AzureVMConfig
from glacier.config.providers import AzureConfig
from glacier.config.storage import AzureBlobConfig, StorageConfig
from glacier.errors import ConfigError
from glacier.storage.errors import Hints

if TYPE_CHECKING:
    from glacier.storage.upload import Upload

__all__ = ["AzureBackend"]


class AzureBackend(ObjectStore[AzureConfig]):
    """Blob Storage through adlfs (polars reads it natively); staged blocks committed at once.

    Credentials: a connection string, an account key, or Entra ID (``DefaultAzureCredential``).
    """

    scheme = "az"
    bucket_pattern = r"[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]"
    bucket_rule = (
        "3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit"
    )
    services = Services(AzureBlobConfig, AzureFunctionConfig, AzureVMConfig)

    def _connection(self) -> dict[str, str]:
        """Account facts from the config, else the standard environment variables."""
        cfg = self.config
        conn = (
            cfg.connection_string.get_secret_value()
            if cfg.connection_string
            else os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
        )
        out: dict[str, str] = {}
        if conn:
            out["connection_string"] = conn
            for key, name in (
                ("AccountName", "account_name"),
                ("AccountKey", "account_key"),
                ("BlobEndpoint", "blob_endpoint"),
            ):
                match = re.search(rf"{key}=([^;]+)", conn)
                if match:
                    out[name] = match.group(1)
        account = cfg.storage_account or os.environ.get("AZURE_STORAGE_ACCOUNT")
        key = cfg.account_key.get_secret_value() if cfg.account_key else os.environ.get("AZURE_STORAGE_KEY")
        if account:
            out["account_name"] = account
        if key:
            out["account_key"] = key
        if cfg.endpoint_url:
            out["blob_endpoint"] = cfg.endpoint_url
        return out

    def filesystem(self, storage: StorageConfig | None) -> Any:
        adlfs = self.require("adlfs", "Reading and writing Azure Blob Storage")
        facts = self._connection()
        if "account_name" not in facts:
            raise ConfigError(
                "Azure storage needs an account: set AzureConfig(storage_account=...) or "
                "AZURE_STORAGE_ACCOUNT / AZURE_STORAGE_CONNECTION_STRING"
            )
        if "account_key" not in facts:
            # Entra ID (DefaultAzureCredential) through adlfs.
            kwargs: dict[str, Any] = {"account_name": facts["account_name"], "anon": False}
            if "blob_endpoint" in facts:
                kwargs["account_host"] = facts["blob_endpoint"].split("://", 1)[-1].split("/", 1)[0]
            return adlfs.AzureBlobFileSystem(**kwargs)
        conn = self._connection_string(facts)
        fs = adlfs.AzureBlobFileSystem(connection_string=conn)
        if not getattr(fs, "_glacier_client", False):  # fsspec reuses instances: replace once
            fs.service_client = _service_client(conn)
            fs._glacier_client = True
        return fs

    @staticmethod
    def _connection_string(facts: dict[str, str]) -> str:
        endpoint = facts.get("blob_endpoint")
        parts = [
            f"DefaultEndpointsProtocol={'http' if (endpoint or '').startswith('http://') else 'https'}",
            f"AccountName={facts['account_name']}",
            f"AccountKey={facts['account_key']}",
        ]
        if endpoint:
            parts.append(f"BlobEndpoint={endpoint}")
        return ";".join(parts) + ";"

    def preflight(self) -> None:
        """Fail in seconds on a dead endpoint (azure-core would back off for long)."""
        from glacier.storage.reach import check_reachable

        facts = self._connection()
        _check_key(facts.get("account_key"))
        if "blob_endpoint" in facts:
            check_reachable(facts["blob_endpoint"])
        elif "account_name" in facts:
            check_reachable(f"https://{facts['account_name']}.blob.core.windows.net")

    def hints(self, storage: StorageConfig | None) -> Hints:
        facts = self._connection()
        return Hints(
            credentials="AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_KEY, "
            "or AzureConfig(connection_string=... / storage_account=..., account_key=...)",
            endpoint=f"the endpoint ({facts.get('blob_endpoint') or 'Azure default'}; the connection "
            "string's BlobEndpoint or AzureConfig(endpoint_url=...))",
            secrets=tuple(v for k, v in facts.items() if k in ("account_key", "connection_string")),
        )

    def upload_options(self, storage: StorageConfig | None) -> dict[str, Any]:
        """The access tier from ``AzureBlobConfig`` (hot, the account default, is not sent).

        Encryption at rest is always on in Azure Storage and versioning is an account
        setting: both are carried by the Terraform export, not set per blob.
        """
        if isinstance(storage, AzureBlobConfig) and storage.tier != "hot":
            from azure.storage.blob import StandardBlobTier

            return {"standard_blob_tier": StandardBlobTier(storage.tier.capitalize())}
        return {}

    def open_upload(self, fs: Any, uri: str, storage: StorageConfig | None) -> Upload:
        """Blocks staged in parallel, committed in one request (one ``Put Blob`` when small)."""
        from glacier.clouds.azure.upload import AzureUpload

        return AzureUpload(fs, uri, self.upload_options(storage))

    def storage_options(self, storage: StorageConfig | None) -> dict[str, Any] | None:
        facts = self._connection()
        if "account_name" not in facts:
            return None
        opts: dict[str, Any] = {"account_name": facts["account_name"]}
        if "account_key" in facts:
            opts["account_key"] = facts["account_key"]
        if "blob_endpoint" in facts:
            opts["azure_storage_endpoint"] = facts["blob_endpoint"]
            if facts["blob_endpoint"].startswith("http://"):
                opts["azure_allow_http"] = "true"
        opts["max_retries"] = 2
        return opts


def _service_client(conn: str) -> Any:
    """An async blob client that fails fast on an unreachable endpoint.

    azure-core's default retry waits 15 s, 18 s, 24 s ... between attempts, so a
    wrong endpoint looks like a hang; this one retries twice within ~3 s.
    """
    from azure.storage.blob.aio import BlobServiceClient, ExponentialRetry

    return BlobServiceClient.from_connection_string(
        conn,
        retry_policy=ExponentialRetry(initial_backoff=1, increment_base=2, retry_total=2),
        connection_timeout=5,
        read_timeout=120,
    )


def _check_key(key: str | None) -> None:
    """An account key is base64; anything else fails every request with 'Incorrect padding'."""
    if key is None:
        return
    import base64
    import binascii

    from glacier.errors import StorageError

    try:
        base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        raise StorageError(
            "the Azure storage account key is not valid base64: check AzureConfig(account_key=...), "
            "AZURE_STORAGE_KEY or the connection string's AccountKey (copy it again from the portal)"
        ) from None
