"""Helpers shared by the storage tests (importable, unlike conftest)."""

from __future__ import annotations

import uuid

from glacier import Provider
from glacier.config import AwsConfig, AzureConfig, GcpConfig, LocalConfig
from tests.servers import GCS_PROJECT, Server, require_server

__all__ = ["BACKENDS", "new_bucket_name", "provider_for", "server_for"]

BACKENDS = ("local", "s3", "gcs", "azure")


#: the running server, or a test failure saying why it is not (tests/servers.py)
server_for = require_server


def provider_for(name: str, server: Server | None, tmp_path: object) -> Provider:
    """A provider whose config fields (not the environment) point at ``server``."""
    if name == "local":
        return Provider(config=LocalConfig(base_path=str(tmp_path)))
    assert server is not None
    if name == "s3":
        return Provider(
            config=AwsConfig(
                region="us-east-1",
                endpoint_url=server.endpoint,
                access_key_id="testing",
                secret_access_key="testing",
            )
        )
    if name == "gcs":
        return Provider(config=GcpConfig(project_id=GCS_PROJECT, endpoint_url=server.endpoint))
    return Provider(config=AzureConfig(connection_string=server.env["AZURE_STORAGE_CONNECTION_STRING"]))


def new_bucket_name() -> str:
    return f"t-{uuid.uuid4().hex[:16]}"
