"""Google Cloud: Cloud Storage, Cloud Functions, Compute Engine, Dataproc."""

from __future__ import annotations

import os
from typing import Any

from glacier.clouds.backend import ObjectStore, Services
from glacier.config.execution import (
    CloudFunctionConfig,
    ComputeEngineConfig,
    DataprocConfig,
)
from glacier.config.providers import GcpConfig
from glacier.config.storage import GCSConfig, StorageConfig
from glacier.errors import ConfigError
from glacier.storage.errors import Hints

__all__ = ["GcpBackend"]


class GcpBackend(ObjectStore[GcpConfig]):
    """Cloud Storage through gcsfs: polars' native reader handles neither emulators nor every
    credential, so Glacier reads through fsspec file objects and writes resumable uploads."""

    scheme = "gs"
    bucket_pattern = r"[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]"
    bucket_rule = (
        "3-63 lowercase letters, digits, dots, hyphens and underscores, "
        "starting and ending with a letter or digit"
    )
    services = Services(GCSConfig, CloudFunctionConfig, ComputeEngineConfig, DataprocConfig)

    def _extra_bucket_checks(self, bucket: str) -> None:
        if bucket.startswith("goog") or "google" in bucket or ".." in bucket:
            raise ConfigError(
                f"bucket name {bucket!r} is not valid on Google Cloud Storage: it may not start "
                "with 'goog', contain 'google' or '..' (for example 'my-data')"
            )

    def _endpoint(self) -> str | None:
        return self.config.endpoint_url or os.environ.get("STORAGE_EMULATOR_HOST")

    def filesystem(self, storage: StorageConfig | None) -> Any:
        os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
        gcsfs = self.require("gcsfs", "Reading and writing Google Cloud Storage")
        cfg = self.config
        kwargs: dict[str, Any] = {}
        if cfg.project_id:
            kwargs["project"] = cfg.project_id
        endpoint = self._endpoint()
        if endpoint:
            kwargs["endpoint_url"] = endpoint
            kwargs["token"] = "anon"
        if cfg.credentials_json is not None:
            kwargs["token"] = _token(cfg.credentials_json.get_secret_value())
        elif cfg.credentials_file:
            kwargs["token"] = cfg.credentials_file
        return gcsfs.GCSFileSystem(requests_timeout=60, **kwargs)

    def preflight(self) -> None:
        """Fail in seconds on a dead endpoint (gcsfs would retry it for ~30 s)."""
        from glacier.storage.reach import check_reachable

        check_reachable(self._endpoint() or "https://storage.googleapis.com")

    def hints(self, storage: StorageConfig | None) -> Hints:
        secrets: tuple[str, ...] = ()
        if self.config.credentials_json is not None:
            secrets = (self.config.credentials_json.get_secret_value(),)
        return Hints(
            credentials="GOOGLE_APPLICATION_CREDENTIALS or GcpConfig(credentials_file=... / credentials_json=...)",
            endpoint=f"the endpoint ({self._endpoint() or 'Google default'}; STORAGE_EMULATOR_HOST or "
            "GcpConfig(endpoint_url=...))",
            secrets=secrets,
        )

    def upload_options(self, storage: StorageConfig | None) -> dict[str, Any]:
        """A resumable upload in 16 MB chunks, encrypted with ``GCSConfig.kms_key_name`` when set.

        Objects take the bucket's default storage class, which the Terraform export sets
        from ``GCSConfig.storage_class`` (gcsfs cannot set a class per object).
        """
        from glacier.storage.upload import PART_SIZE

        opts: dict[str, Any] = {"block_size": PART_SIZE}
        if isinstance(storage, GCSConfig) and storage.kms_key_name:
            opts["kms_key_name"] = storage.kms_key_name
        return opts

    def storage_options(self, storage: StorageConfig | None) -> dict[str, Any] | None:
        # Polars' native gs:// reader handles neither emulators nor every auth path:
        # read and write through fsspec file objects.
        return None


_SCOPES = ["https://www.googleapis.com/auth/devstorage.full_control"]


def _token(secret: str) -> Any:
    """gcsfs credentials from a JSON key: service-account keys become google-auth credentials.

    gcsfs' ``token=<dict>`` only understands authorized-user dicts; a service-account
    dict there fails on every call. No part of the key ever appears in an error.
    """
    import json

    from glacier.errors import StorageError

    try:
        info = json.loads(secret)
    except ValueError:
        raise StorageError(
            "GcpConfig(credentials_json=...) is not valid JSON: give the content of a service-account "
            "or authorized-user key file (or credentials_file=PATH)"
        ) from None
    if not isinstance(info, dict):
        raise StorageError("GcpConfig(credentials_json=...) must be a JSON object (a key file's content)")
    if info.get("type") != "service_account":
        return info
    from google.oauth2 import service_account

    try:
        return service_account.Credentials.from_service_account_info(info, scopes=_SCOPES)
    except Exception:
        raise StorageError(
            "GcpConfig(credentials_json=...) is not a usable service-account key (its private_key or "
            "client_email cannot be read): download a new JSON key for the service account"
        ) from None
