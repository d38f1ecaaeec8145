"""What re-targeting knows about Google Cloud: GCS classes, Cloud Functions runtimes,
Dataproc."""

from __future__ import annotations

from typing import Any

from glacier.clouds.gcp.backend import GcpBackend
from glacier.config.execution import CloudFunctionConfig, ComputeEngineConfig, DataprocConfig, ExecutionConfig
from glacier.config.storage import GCSConfig, StorageConfig
from glacier.terraform.retarget import Fail, Retarget, explicit

__all__ = ["RETARGET", "GcpRetarget"]


#: Storage class -> neutral tier (the first class of a tier is the one re-targeted to).
TIERS: dict[str, str] = {"STANDARD": "hot", "NEARLINE": "cool", "COLDLINE": "cold", "ARCHIVE": "archive"}


class GcpRetarget(Retarget):
    """GCS classes map to tiers; Cloud Functions runtimes are ``python312``; Dataproc clusters."""

    backend = GcpBackend
    tiers = TIERS

    def owns(self, machine: str) -> bool:
        return "-" in machine and "." not in machine and not machine.startswith(("Standard_", "Basic_"))

    def local_function(self) -> ExecutionConfig:
        return CloudFunctionConfig(memory=1024, timeout=3600)

    def storage_out(self, config: GCSConfig, fail: Fail) -> tuple[str, bool]:
        for field in ("location", "kms_key_name", "retention_days"):
            if getattr(config, field) is not None:
                raise fail(field)
        if not config.uniform_access:
            raise fail("uniform_access", "only uniform access is generated")
        return self.tiers[config.storage_class], config.versioning

    def make_storage(self, storage_class: str, versioning: bool) -> StorageConfig:
        return GCSConfig(storage_class=storage_class, versioning=versioning)  # type: ignore[arg-type]

    def version(self, config: CloudFunctionConfig) -> str:
        digits = config.runtime.removeprefix("python")
        return f"{digits[0]}.{digits[1:]}"

    def runtime(self, version: str) -> str:
        return "python" + version.replace(".", "")

    def serverless_out(self, config: CloudFunctionConfig, cloud: str, fail: Fail) -> dict[str, Any]:
        if config.min_instances:
            raise fail("min_instances")
        if config.max_instances is None:
            return {}
        if cloud != "aws" or config.max_instances > 1000:
            raise fail("max_instances")
        return {"reserved_concurrency": config.max_instances}

    def vm_out(self, config: ComputeEngineConfig, fail: Fail) -> tuple[str, int, str]:
        if config.zone is not None:
            raise fail("zone")
        if explicit(config, "image"):
            raise fail("image", "images are per cloud")
        return config.machine_type, config.disk_size_gb, "machine_type"

    def make_vm(self, machine: str, disk: int) -> ExecutionConfig:
        return ComputeEngineConfig(machine_type=machine, disk_size_gb=max(disk, 10))

    def cluster_out(self, config: DataprocConfig, fail: Fail) -> tuple[str, int, str]:
        if explicit(config, "image_version"):
            raise fail("image_version", "Dataproc images are Google-only")
        return config.machine_type, config.num_workers, "machine_type"

    def make_cluster(self, machine: str, workers: int) -> ExecutionConfig:
        return DataprocConfig(machine_type=machine, num_workers=workers)

    def spark(self, workers: int) -> ExecutionConfig:
        return DataprocConfig(num_workers=workers)


RETARGET = GcpRetarget()
