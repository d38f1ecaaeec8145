"""What re-targeting knows about AWS: S3 classes, Lambda runtimes, EMR."""

from __future__ import annotations

from typing import Any

from glacier.clouds.aws.backend import AwsBackend
from glacier.config.execution import EC2Config, EMRConfig, ExecutionConfig, LambdaConfig
from glacier.config.storage import S3Config, StorageConfig
from glacier.terraform.retarget import Fail, Retarget, explicit

__all__ = ["RETARGET", "AwsRetarget"]


#: Storage class -> neutral tier (the first class of a tier is the one re-targeted to).
TIERS: dict[str, str] = {
    "STANDARD": "hot",
    "STANDARD_IA": "cool",
    "GLACIER_IR": "cold",
    "GLACIER": "archive",
    "DEEP_ARCHIVE": "archive",
    "INTELLIGENT_TIERING": "auto",
    "ONEZONE_IA": "one-zone infrequent access",
}


class AwsRetarget(Retarget):
    """S3 storage classes map to tiers; Lambda runtimes are ``python3.12``."""

    backend = AwsBackend
    tiers = TIERS

    def owns(self, machine: str) -> bool:
        return "." in machine

    def local_function(self) -> ExecutionConfig:
        return LambdaConfig(memory=1024, timeout=900)

    def storage_out(self, config: S3Config, fail: Fail) -> tuple[str, bool]:
        if config.encryption == "aws:kms":
            raise fail("encryption", "KMS keys are per cloud")
        for field in ("transition_days", "expiration_days"):
            if getattr(config, field) is not None:
                raise fail(field, "lifecycle rules are not retargeted")
        return self.tiers[config.storage_class], config.versioning

    def make_storage(self, storage_class: str, versioning: bool) -> StorageConfig:
        return S3Config(storage_class=storage_class, versioning=versioning)  # type: ignore[arg-type]

    def version(self, config: LambdaConfig) -> str:
        return config.runtime.removeprefix("python")

    def runtime(self, version: str) -> str:
        return f"python{version}"

    def serverless_out(self, config: LambdaConfig, cloud: str, fail: Fail) -> dict[str, Any]:
        if config.architecture != "x86_64":
            raise fail("architecture")
        if config.ephemeral_storage != 512:
            raise fail("ephemeral_storage")
        if config.reserved_concurrency is None:
            return {}
        if cloud != "gcp" or config.reserved_concurrency < 1:
            raise fail("reserved_concurrency")
        return {"max_instances": config.reserved_concurrency}

    def vm_out(self, config: EC2Config, fail: Fail) -> tuple[str, int, str]:
        for field in ("ami", "subnet_id"):
            if getattr(config, field) is not None:
                raise fail(field, "images and networks are per cloud")
        return config.instance_type, config.disk_size_gb, "instance_type"

    def make_vm(self, machine: str, disk: int) -> ExecutionConfig:
        return EC2Config(instance_type=machine, disk_size_gb=max(disk, 8))

    def cluster_out(self, config: EMRConfig, fail: Fail) -> tuple[str, int, str]:
        if explicit(config, "release_label"):
            raise fail("release_label", "EMR releases are AWS-only")
        if tuple(config.applications) != ("Spark",):
            raise fail("applications")
        return config.instance_type, config.num_workers, "instance_type"

    def make_cluster(self, machine: str, workers: int) -> ExecutionConfig:
        return EMRConfig(instance_type=machine, num_workers=max(workers, 1))

    def spark(self, workers: int) -> ExecutionConfig:
        return EMRConfig(num_workers=workers)


RETARGET = AwsRetarget()
