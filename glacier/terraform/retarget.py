"""Translate storage and execution configs to another cloud, or say what has no equivalent."""

from __future__ import annotations

from typing import Any

from glacier.config.execution import (
    AzureFunctionConfig,
    AzureVMConfig,
    CloudFunctionConfig,
    ComputeEngineConfig,
    DaskConfig,
    DatabricksConfig,
    DataprocConfig,
    EC2Config,
    EMRConfig,
    ExecutionConfig,
    LambdaConfig,
    SparkConfig,
)
from glacier.config.storage import AzureBlobConfig, GCSConfig, S3Config, StorageConfig
from glacier.errors import ConfigError

__all__ = ["storage_for", "execution_for", "default_serverless", "SERVICES", "map_instance_type"]

CLOUDS = ("aws", "gcp", "azure")
SERVICES = {
    "storage": {"aws": S3Config, "gcp": GCSConfig, "azure": AzureBlobConfig},
    "serverless": {"aws": LambdaConfig, "gcp": CloudFunctionConfig, "azure": AzureFunctionConfig},
    "vm": {"aws": EC2Config, "gcp": ComputeEngineConfig, "azure": AzureVMConfig},
}
#: Comparable machine sizes (vCPU and memory) on each cloud: aws, gcp, azure.
MACHINES: tuple[tuple[str, str, str], ...] = (
    ("t3.micro", "e2-micro", "Standard_B1s"),
    ("t3.small", "e2-small", "Standard_B1ms"),
    ("t3.medium", "e2-medium", "Standard_B2s"),
    ("t3.large", "e2-standard-2", "Standard_D2s_v5"),
    ("t3.xlarge", "e2-standard-4", "Standard_D4s_v5"),
    ("m5.xlarge", "n2-standard-4", "Standard_D4ds_v5"),
    ("m5.2xlarge", "n2-standard-8", "Standard_D8ds_v5"),
    ("r5.xlarge", "n2-highmem-4", "Standard_E4s_v5"),
    ("i3.xlarge", "n2d-highmem-4", "Standard_E4ds_v5"),
    ("c5.2xlarge", "c2-standard-8", "Standard_F8s_v2"),
)
_TIERS = {
    "aws": {
        "STANDARD": "hot",
        "STANDARD_IA": "cool",
        "GLACIER_IR": "cold",
        "GLACIER": "archive",
        "DEEP_ARCHIVE": "archive",
        "INTELLIGENT_TIERING": "auto",
        "ONEZONE_IA": "one-zone infrequent access",
    },
    "gcp": {"STANDARD": "hot", "NEARLINE": "cool", "COLDLINE": "cold", "ARCHIVE": "archive"},
    "azure": {"hot": "hot", "cool": "cool", "cold": "cold", "archive": "archive"},
}
_TIER_BACK = {
    "aws": {
        "hot": "STANDARD",
        "cool": "STANDARD_IA",
        "cold": "GLACIER_IR",
        "archive": "GLACIER",
        "auto": "INTELLIGENT_TIERING",
    },
    "gcp": {"hot": "STANDARD", "cool": "NEARLINE", "cold": "COLDLINE", "archive": "ARCHIVE"},
    "azure": {"hot": "hot", "cool": "cool", "cold": "cold", "archive": "archive"},
}
_NAMES = {"aws": "AWS", "gcp": "Google Cloud", "azure": "Azure"}


def _none(where: str, config: Any, field: str, cloud: str, hint: str = "") -> ConfigError:
    value = getattr(config, field)
    target = _NAMES[cloud]
    more = f" ({hint})" if hint else ""
    return ConfigError(
        f"{where}: {type(config).__name__}({field}={value!r}) has no equivalent on {target}{more}; "
        f"remove it or keep the pipeline on {_NAMES.get(config.cloud, 'its own cloud')}"
    )


def _explicit(config: Any, field: str) -> bool:
    return (
        field in config.model_fields_set
        and getattr(config, field) != type(config).model_fields[field].default
    )


def storage_for(config: StorageConfig | None, cloud: str, where: str) -> StorageConfig:
    """``config`` as the target cloud's storage config (defaults when ``None``)."""
    target = SERVICES["storage"][cloud]
    if config is None:
        return target()
    if isinstance(config, target):
        return config
    tier, versioning = "hot", config.versioning  # type: ignore[attr-defined]
    if isinstance(config, S3Config):
        tier = _TIERS["aws"][config.storage_class]
        if config.encryption == "aws:kms":
            raise _none(where, config, "encryption", cloud, "KMS keys are per cloud")
        for field in ("transition_days", "expiration_days"):
            if getattr(config, field) is not None:
                raise _none(where, config, field, cloud, "lifecycle rules are not retargeted")
    elif isinstance(config, GCSConfig):
        tier = _TIERS["gcp"][config.storage_class]
        for field in ("location", "kms_key_name", "retention_days"):
            if getattr(config, field) is not None:
                raise _none(where, config, field, cloud)
        if not config.uniform_access:
            raise _none(where, config, "uniform_access", cloud, "only uniform access is generated")
    elif isinstance(config, AzureBlobConfig):
        tier = config.tier
        if not config.encryption:
            raise _none(where, config, "encryption", cloud, "storage is always encrypted")
        if config.replication not in ("LRS", "ZRS"):
            raise _none(where, config, "replication", cloud, "geo-replication is per cloud")
    back = _TIER_BACK[cloud].get(tier)
    if back is None:
        field = "storage_class" if not isinstance(config, AzureBlobConfig) else "tier"
        raise _none(where, config, field, cloud)
    if cloud == "aws":
        return S3Config(storage_class=back, versioning=versioning)  # type: ignore[arg-type]
    if cloud == "gcp":
        return GCSConfig(storage_class=back, versioning=versioning)  # type: ignore[arg-type]
    return AzureBlobConfig(tier=back, versioning=versioning)  # type: ignore[arg-type]


def map_instance_type(value: str, cloud: str, where: str, owner: Any, field: str) -> str:
    column = CLOUDS.index(cloud)
    for row in MACHINES:
        if value in row:
            return row[column]
    known = (
        ", ".join(r[CLOUDS.index(_cloud_of_type(value))] for r in MACHINES) if _cloud_of_type(value) else ""
    )
    raise ConfigError(
        f"{where}: {type(owner).__name__}({field}={value!r}) has no known equivalent on {_NAMES[cloud]}"
        + (f"; Glacier maps these: {known}" if known else "")
        + "; choose a mapped size or keep the pipeline on its own cloud"
    )


def _cloud_of_type(value: str) -> str | None:
    if "." in value:
        return "aws"
    if value.startswith(("Standard_", "Basic_")):
        return "azure"
    if "-" in value:
        return "gcp"
    return None


def default_serverless(cloud: str) -> ExecutionConfig:
    """The function config used for tasks bound to ``provider.local()``: longest timeout."""
    if cloud == "aws":
        return LambdaConfig(memory=1024, timeout=900)
    if cloud == "gcp":
        return CloudFunctionConfig(memory=1024, timeout=3600)
    return AzureFunctionConfig(timeout=600)


_RUNTIME = {
    "aws": lambda v: f"python{v}",
    "gcp": lambda v: "python" + v.replace(".", ""),
    "azure": lambda v: v,
}


def _version(config: ExecutionConfig) -> str:
    runtime = config.runtime  # type: ignore[attr-defined]
    if isinstance(config, LambdaConfig):
        return runtime.removeprefix("python")
    if isinstance(config, CloudFunctionConfig):
        digits = runtime.removeprefix("python")
        return f"{digits[0]}.{digits[1:]}"
    return runtime


def _serverless(config: ExecutionConfig, cloud: str, where: str) -> ExecutionConfig:
    target = SERVICES["serverless"][cloud]
    fields: dict[str, Any] = {}
    memory = config.memory  # type: ignore[attr-defined]
    if target is AzureFunctionConfig:
        sizes = [m for m in (512, 2048, 4096) if m >= memory]
        if not sizes:
            raise _none(where, config, "memory", cloud, "Azure Functions offer 512, 2048 or 4096 MB")
        memory = sizes[0]
    fields["memory"] = memory
    fields["timeout"] = config.timeout  # type: ignore[attr-defined]
    fields["runtime"] = _RUNTIME[cloud](_version(config))
    if isinstance(config, LambdaConfig):
        if config.architecture != "x86_64":
            raise _none(where, config, "architecture", cloud)
        if config.ephemeral_storage != 512:
            raise _none(where, config, "ephemeral_storage", cloud)
        if config.reserved_concurrency is not None:
            if cloud != "gcp" or config.reserved_concurrency < 1:
                raise _none(where, config, "reserved_concurrency", cloud)
            fields["max_instances"] = config.reserved_concurrency
    elif isinstance(config, CloudFunctionConfig):
        if config.min_instances:
            raise _none(where, config, "min_instances", cloud)
        if config.max_instances is not None:
            if cloud != "aws" or config.max_instances > 1000:
                raise _none(where, config, "max_instances", cloud)
            fields["reserved_concurrency"] = config.max_instances
    elif isinstance(config, AzureFunctionConfig) and config.sku != "Y1":
        raise _none(where, config, "sku", cloud)
    try:
        return target(**fields)
    except ValueError as exc:
        first = str(exc).splitlines()
        raise ConfigError(
            f"{where}: {type(config).__name__} does not fit {target.__name__} on {_NAMES[cloud]}: "
            + " ".join(first[1:3]).strip()
        ) from None


def _vm(config: ExecutionConfig, cloud: str, where: str, source_cloud: str) -> ExecutionConfig:
    if isinstance(config, EC2Config):
        size, disk = config.instance_type, config.disk_size_gb
        for field in ("ami", "subnet_id"):
            if getattr(config, field) is not None:
                raise _none(where, config, field, cloud, "images and networks are per cloud")
        field = "instance_type"
    elif isinstance(config, ComputeEngineConfig):
        size, disk = config.machine_type, config.disk_size_gb
        for field in ("zone",):
            if getattr(config, field) is not None:
                raise _none(where, config, field, cloud)
        if _explicit(config, "image"):
            raise _none(where, config, "image", cloud, "images are per cloud")
        field = "machine_type"
    else:
        assert isinstance(config, AzureVMConfig)
        size, disk = config.vm_size, config.disk_size_gb
        if _explicit(config, "image"):
            raise _none(where, config, "image", cloud, "images are per cloud")
        field = "vm_size"
    mapped = map_instance_type(size, cloud, where, config, field)
    if cloud == "aws":
        return EC2Config(instance_type=mapped, disk_size_gb=max(disk, 8))
    if cloud == "gcp":
        return ComputeEngineConfig(machine_type=mapped, disk_size_gb=max(disk, 10))
    return AzureVMConfig(vm_size=mapped, disk_size_gb=max(disk, 30))


def _cluster(config: ExecutionConfig, cloud: str, where: str, source_cloud: str) -> ExecutionConfig:
    if isinstance(config, DaskConfig):
        raise ConfigError(
            f"{where}: DaskConfig has no managed service to generate on {_NAMES[cloud]}: "
            "bind these tasks to provider.cluster(config=SparkConfig(...)) or DatabricksConfig, "
            "or deploy the Dask scheduler yourself and keep them out of the Terraform export"
        )
    if isinstance(config, DatabricksConfig):
        if config.instance_type and source_cloud != cloud and _cloud_of_type(config.instance_type) != cloud:
            mapped = map_instance_type(config.instance_type, cloud, where, config, "instance_type")
            return config.model_copy(update={"instance_type": mapped})
        return config
    if isinstance(config, SparkConfig):
        if cloud == "aws":
            return EMRConfig(num_workers=config.num_executors)
        if cloud == "gcp":
            return DataprocConfig(num_workers=config.num_executors)
        return DatabricksConfig(num_workers=config.num_executors)
    if isinstance(config, EMRConfig):
        if cloud == "aws":
            return config
        if _explicit(config, "release_label"):
            raise _none(where, config, "release_label", cloud, "EMR releases are AWS-only")
        if tuple(config.applications) != ("Spark",):
            raise _none(where, config, "applications", cloud)
        mapped = map_instance_type(config.instance_type, cloud, where, config, "instance_type")
        if cloud == "gcp":
            return DataprocConfig(machine_type=mapped, num_workers=config.num_workers)
        return DatabricksConfig(instance_type=mapped, num_workers=config.num_workers)
    if isinstance(config, DataprocConfig):
        if cloud == "gcp":
            return config
        if _explicit(config, "image_version"):
            raise _none(where, config, "image_version", cloud, "Dataproc images are Google-only")
        mapped = map_instance_type(config.machine_type, cloud, where, config, "machine_type")
        if cloud == "aws":
            return EMRConfig(instance_type=mapped, num_workers=max(config.num_workers, 1))
        return DatabricksConfig(instance_type=mapped, num_workers=config.num_workers)
    raise ConfigError(f"{where}: {type(config).__name__} is not a cluster config Glacier can export")


def execution_for(
    kind: str, config: ExecutionConfig | None, cloud: str, where: str, source_cloud: str
) -> ExecutionConfig:
    """``config`` as an equivalent config on ``cloud`` (defaults when ``None``)."""
    if kind == "local":
        return default_serverless(cloud)
    if kind == "cluster":
        return _cluster(config if config is not None else DatabricksConfig(), cloud, where, source_cloud)
    target = SERVICES[kind][cloud]
    if config is None:
        return target()
    if isinstance(config, target):
        return config
    if kind == "serverless":
        return _serverless(config, cloud, where)
    return _vm(config, cloud, where, source_cloud)
