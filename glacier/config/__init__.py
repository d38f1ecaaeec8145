"""Validated configuration models (pydantic v2, frozen, ``extra="forbid"``).

The provider config decides the cloud; storage and execution configs describe
one bucket or one execution resource.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from glacier.config._base import GlacierConfig
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
    from glacier.config.providers import AwsConfig, AzureConfig, GcpConfig, LocalConfig, ProviderConfig
    from glacier.config.storage import AzureBlobConfig, GCSConfig, S3Config, StorageConfig

# Submodules are imported on first use (PEP 562) to keep `import glacier` fast.
_MODULES = {
    "GlacierConfig": "_base",
    "ProviderConfig": "providers",
    "LocalConfig": "providers",
    "AwsConfig": "providers",
    "GcpConfig": "providers",
    "AzureConfig": "providers",
    "StorageConfig": "storage",
    "S3Config": "storage",
    "GCSConfig": "storage",
    "AzureBlobConfig": "storage",
}


def __getattr__(name: str) -> Any:
    import importlib

    module = _MODULES.get(name, "execution" if name in __all__ else None)
    if module is None:
        raise AttributeError(f"module 'glacier.config' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"glacier.config.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "GlacierConfig",
    "ProviderConfig",
    "StorageConfig",
    "ExecutionConfig",
    "LocalConfig",
    "AwsConfig",
    "GcpConfig",
    "AzureConfig",
    "S3Config",
    "GCSConfig",
    "AzureBlobConfig",
    "LambdaConfig",
    "CloudFunctionConfig",
    "AzureFunctionConfig",
    "EC2Config",
    "ComputeEngineConfig",
    "AzureVMConfig",
    "DatabricksConfig",
    "SparkConfig",
    "EMRConfig",
    "DataprocConfig",
    "DaskConfig",
]
