"""Storage for the GCP and Azure rehearsals: the GCS emulator and Azurite, with the buckets
and the input the rehearsal pipelines read (written through a provider of that cloud)."""

from __future__ import annotations

from glacier import Provider
from glacier.config import AzureConfig, GcpConfig
from tests.rehearse.conftest import INPUT

__all__ = ["prepare"]


def prepare(server, monkeypatch) -> None:
    """Point this process at ``server`` and write the buckets and input of the pipelines."""
    for name, value in server.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GLACIER_PROGRESS", "0")
    for bucket in ("data-lake", "reports"):
        server.create_bucket(bucket)
    config = GcpConfig() if server.name == "gcs" else AzureConfig()
    Provider(config=config).bucket(bucket="data-lake", path="raw/data.parquet").write(INPUT)
