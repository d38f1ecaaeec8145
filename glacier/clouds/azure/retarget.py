"""What re-targeting knows about Azure: Blob tiers, Functions plans and runtimes, VMs;
Spark runs on Databricks."""

from __future__ import annotations

from typing import Any

from glacier.clouds.azure.backend import AzureBackend
from glacier.config.execution import AzureFunctionConfig, AzureVMConfig, DatabricksConfig, ExecutionConfig
from glacier.config.storage import AzureBlobConfig, StorageConfig
from glacier.terraform.retarget import Fail, Retarget, explicit

__all__ = ["RETARGET", "AzureRetarget"]

#: The memory sizes of Azure Functions plans (MB).
FUNCTION_MEMORY = (512, 2048, 4096)


#: Storage class -> neutral tier (the first class of a tier is the one re-targeted to).
TIERS: dict[str, str] = {"hot": "hot", "cool": "cool", "cold": "cold", "archive": "archive"}


class AzureRetarget(Retarget):
    """Blob tiers are the neutral tiers; Functions plans offer three memory sizes; no native
    cluster (Spark runs on Databricks)."""

    backend = AzureBackend
    tiers = TIERS
    tier_field = "tier"

    def owns(self, machine: str) -> bool:
        return machine.startswith(("Standard_", "Basic_")) and "." not in machine

    def local_function(self) -> ExecutionConfig:
        return AzureFunctionConfig(timeout=600)

    def storage_out(self, config: AzureBlobConfig, fail: Fail) -> tuple[str, bool]:
        if not config.encryption:
            raise fail("encryption", "storage is always encrypted")
        if config.replication not in ("LRS", "ZRS"):
            raise fail("replication", "geo-replication is per cloud")
        return config.tier, config.versioning

    def make_storage(self, storage_class: str, versioning: bool) -> StorageConfig:
        return AzureBlobConfig(tier=storage_class, versioning=versioning)  # type: ignore[arg-type]

    def memory(self, memory: int, fail: Fail) -> int:
        sizes = [m for m in FUNCTION_MEMORY if m >= memory]
        if not sizes:
            raise fail("memory", "Azure Functions offer 512, 2048 or 4096 MB")
        return sizes[0]

    def version(self, config: AzureFunctionConfig) -> str:
        return config.runtime

    def runtime(self, version: str) -> str:
        return version

    def serverless_out(self, config: AzureFunctionConfig, cloud: str, fail: Fail) -> dict[str, Any]:
        if config.sku != "Y1":
            raise fail("sku")
        return {}

    def vm_out(self, config: AzureVMConfig, fail: Fail) -> tuple[str, int, str]:
        if explicit(config, "image"):
            raise fail("image", "images are per cloud")
        return config.vm_size, config.disk_size_gb, "vm_size"

    def make_vm(self, machine: str, disk: int) -> ExecutionConfig:
        return AzureVMConfig(vm_size=machine, disk_size_gb=max(disk, 30))

    def make_cluster(self, machine: str, workers: int) -> ExecutionConfig:
        return DatabricksConfig(instance_type=machine, num_workers=workers)

    def spark(self, workers: int) -> ExecutionConfig:
        return DatabricksConfig(num_workers=workers)


RETARGET = AzureRetarget()
