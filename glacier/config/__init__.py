"""Validated configuration models (pydantic v2, frozen, ``extra="forbid"``).

The provider config decides the cloud; storage and execution configs describe
one bucket or one execution resource.
"""

from __future__ import annotations

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
