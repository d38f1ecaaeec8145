"""Microsoft Azure: Blob Storage, Azure Functions, Azure VMs; Spark through Databricks."""

from __future__ import annotations

import os
import re
from typing import Any, ClassVar

from glacier.backends.base import PORTABLE_CLUSTERS, Backend
from glacier.config.execution import AzureFunctionConfig, AzureVMConfig, ExecutionConfig
from glacier.config.storage import AzureBlobConfig, StorageConfig
from glacier.errors import ConfigError, require

__all__ = ["AzureBackend"]


class AzureBackend(Backend):
    name: ClassVar[str] = "azure"
    scheme: ClassVar[str] = "az"
    storage_config: ClassVar[type[StorageConfig] | None] = AzureBlobConfig
    extra: ClassVar[str] = "azure"
    bucket_pattern: ClassVar[str] = r"[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]"
    bucket_rule: ClassVar[str] = (
        "3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit"
    )
    execution: ClassVar[dict[str, tuple[type[ExecutionConfig], ...]]] = {
        "serverless": (AzureFunctionConfig,),
        "vm": (AzureVMConfig,),
        "cluster": (PORTABLE_CLUSTERS[0], *PORTABLE_CLUSTERS[1:]),
    }

    def _connection(self) -> dict[str, str]:
        """Account facts from the config, else the standard environment variables."""
        cfg = self.config
        conn = (
            cfg.connection_string.get_secret_value()
            if cfg.connection_string
            else os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
        )  # type: ignore[attr-defined]
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
        account = cfg.storage_account or os.environ.get("AZURE_STORAGE_ACCOUNT")  # type: ignore[attr-defined]
        key = cfg.account_key.get_secret_value() if cfg.account_key else os.environ.get("AZURE_STORAGE_KEY")  # type: ignore[attr-defined]
        if account:
            out["account_name"] = account
        if key:
            out["account_key"] = key
        if cfg.endpoint_url:  # type: ignore[attr-defined]
            out["blob_endpoint"] = cfg.endpoint_url  # type: ignore[attr-defined]
        return out

    def filesystem(self, storage: StorageConfig | None) -> Any:
        adlfs = require("adlfs", "azure", "Reading and writing Azure Blob Storage")
        facts = self._connection()
        if "connection_string" in facts:
            return adlfs.AzureBlobFileSystem(connection_string=facts["connection_string"])
        if "account_name" not in facts:
            raise ConfigError(
                "Azure storage needs an account: set AzureConfig(storage_account=...) or "
                "AZURE_STORAGE_ACCOUNT / AZURE_STORAGE_CONNECTION_STRING"
            )
        kwargs: dict[str, Any] = {"account_name": facts["account_name"]}
        if "account_key" in facts:
            kwargs["account_key"] = facts["account_key"]
        else:
            kwargs["anon"] = False
        if "blob_endpoint" in facts:
            kwargs["account_host"] = facts["blob_endpoint"].split("://", 1)[-1].split("/", 1)[0]
        return adlfs.AzureBlobFileSystem(**kwargs)

    def storage_options(self, storage: StorageConfig | None) -> dict[str, Any] | None:
        facts = self._connection()
        if "account_name" not in facts:
            return None
        opts = {"account_name": facts["account_name"]}
        if "account_key" in facts:
            opts["account_key"] = facts["account_key"]
        if "blob_endpoint" in facts:
            opts["azure_storage_endpoint"] = facts["blob_endpoint"]
            if facts["blob_endpoint"].startswith("http://"):
                opts["azure_allow_http"] = "true"
        return opts
