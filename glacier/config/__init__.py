"""Validated configuration models (pydantic v2, frozen, ``extra="forbid"``).

The provider config decides the cloud; storage and execution configs describe
one bucket or one execution resource.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from glacier.config._base import GlacierConfig as GlacierConfig
    from glacier.config.execution import AzureFunctionConfig as AzureFunctionConfig
    from glacier.config.execution import AzureVMConfig as AzureVMConfig
    from glacier.config.execution import CloudFunctionConfig as CloudFunctionConfig
    from glacier.config.execution import ComputeEngineConfig as ComputeEngineConfig
    from glacier.config.execution import DaskConfig as DaskConfig
    from glacier.config.execution import DatabricksConfig as DatabricksConfig
    from glacier.config.execution import DataprocConfig as DataprocConfig
    from glacier.config.execution import EC2Config as EC2Config
    from glacier.config.execution import EMRConfig as EMRConfig
    from glacier.config.execution import ExecutionConfig as ExecutionConfig
    from glacier.config.execution import LambdaConfig as LambdaConfig
    from glacier.config.execution import SparkConfig as SparkConfig
    from glacier.config.providers import AwsConfig as AwsConfig
    from glacier.config.providers import AzureConfig as AzureConfig
    from glacier.config.providers import GcpConfig as GcpConfig
    from glacier.config.providers import LocalConfig as LocalConfig
    from glacier.config.providers import ProviderConfig as ProviderConfig
    from glacier.config.storage import AzureBlobConfig as AzureBlobConfig
    from glacier.config.storage import GCSConfig as GCSConfig
    from glacier.config.storage import S3Config as S3Config
    from glacier.config.storage import StorageConfig as StorageConfig

#: Every public name and the submodule that defines it. A submodule is imported when one of
#: its names is first used (PEP 562), so that `import glacier` stays fast.
_EXPORTS = {
    "GlacierConfig": "_base",
    "ProviderConfig": "providers",
    "StorageConfig": "storage",
    "ExecutionConfig": "execution",
    "LocalConfig": "providers",
    "AwsConfig": "providers",
    "GcpConfig": "providers",
    "AzureConfig": "providers",
    "S3Config": "storage",
    "GCSConfig": "storage",
    "AzureBlobConfig": "storage",
    "LambdaConfig": "execution",
    "CloudFunctionConfig": "execution",
    "AzureFunctionConfig": "execution",
    "EC2Config": "execution",
    "ComputeEngineConfig": "execution",
    "AzureVMConfig": "execution",
    "DatabricksConfig": "execution",
    "SparkConfig": "execution",
    "EMRConfig": "execution",
    "DataprocConfig": "execution",
    "DaskConfig": "execution",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    import importlib

    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'glacier.config' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"glacier.config.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
