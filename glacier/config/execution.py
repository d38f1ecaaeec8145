"""Execution configs: where a task's code runs (serverless, vm, cluster)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, SecretStr, field_validator

from glacier.config._base import GlacierConfig, check_pattern, matching

__all__ = [
    "ExecutionConfig",
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


class ExecutionConfig(GlacierConfig):
    """Base of the execution configs."""

    #: ``"serverless"``, ``"vm"`` or ``"cluster"``: the provider method it goes with.
    kind: ClassVar[str] = ""


# --- serverless -----------------------------------------------------------------


class ServerlessConfig(ExecutionConfig):
    """Memory (MB) and timeout (s) are what the emulator enforces locally."""

    kind: ClassVar[str] = "serverless"
    memory: int
    timeout: int


class LambdaConfig(ServerlessConfig, cloud="aws", service="AWS Lambda"):
    """An AWS Lambda function (memory 128-10240 MB, timeout at most 900 s).

    Examples
    --------
    >>> LambdaConfig(memory=1024)
    LambdaConfig(memory=1024)
    """

    memory: int = Field(1024, ge=128, le=10240, description="MB")
    timeout: int = Field(300, ge=1, le=900, description="seconds")
    runtime: Literal["python3.10", "python3.11", "python3.12", "python3.13"] = "python3.11"
    architecture: Literal["x86_64", "arm64"] = "x86_64"
    ephemeral_storage: int = Field(512, ge=512, le=10240, description="MB of /tmp")
    reserved_concurrency: int | None = Field(None, ge=0, le=1000)


class CloudFunctionConfig(ServerlessConfig, cloud="gcp", service="Cloud Functions"):
    """A Google Cloud Function, 2nd gen (memory 128-32768 MB, timeout at most 3600 s)."""

    memory: int = Field(1024, ge=128, le=32768, description="MB")
    timeout: int = Field(300, ge=1, le=3600, description="seconds")
    runtime: Literal["python310", "python311", "python312", "python313"] = "python311"
    max_instances: int | None = Field(None, ge=1, le=3000)
    min_instances: int = Field(0, ge=0, le=1000)


class AzureFunctionConfig(ServerlessConfig, cloud="azure", service="Azure Functions"):
    """An Azure Function on Linux (Flex Consumption: 2048 or 4096 MB, timeout at most 600 s
    on the consumption plans)."""

    memory: Literal[512, 2048, 4096] = 2048
    timeout: int = Field(300, ge=1, le=600, description="seconds")
    runtime: Literal["3.10", "3.11", "3.12"] = "3.11"
    sku: Literal["Y1", "FC1", "EP1", "EP2", "EP3"] = "Y1"


# --- virtual machines -----------------------------------------------------------


class VMConfig(ExecutionConfig):
    kind: ClassVar[str] = "vm"


class EC2Config(VMConfig, cloud="aws", service="Amazon EC2"):
    """An Amazon EC2 instance.

    Examples
    --------
    >>> EC2Config(instance_type="t3.large", ami="ami-12345678")
    EC2Config(instance_type='t3.large', ami='ami-12345678')
    """

    instance_type: Annotated[
        str, matching(r"[a-z][a-z0-9-]*\.[a-z0-9]+", "EC2 instance type", "t3.large")
    ] = "t3.medium"
    ami: Annotated[
        str | None, matching(r"ami-[0-9a-f]{8}([0-9a-f]{9})?", "AMI id", "ami-0abcdef1234567890")
    ] = None
    disk_size_gb: int = Field(30, ge=8, le=16384)
    subnet_id: str | None = None


class ComputeEngineConfig(VMConfig, cloud="gcp", service="Compute Engine"):
    """A Google Compute Engine instance."""

    machine_type: Annotated[str, matching(r"[a-z][a-z0-9]*-[a-z0-9-]+", "machine type", "e2-standard-2")] = (
        "e2-standard-2"
    )
    image: str = "debian-cloud/debian-12"
    disk_size_gb: int = Field(20, ge=10, le=65536)
    zone: Annotated[str | None, matching(r"[a-z]+-[a-z]+\d{1,2}-[a-z]", "GCP zone", "us-central1-a")] = None


class AzureVMConfig(VMConfig, cloud="azure", service="Azure Virtual Machines"):
    """An Azure Linux virtual machine. The default image, Debian 12, runs Python 3.11: the
    Python the deployment packages are built for (the VM checks it before running a task)."""

    vm_size: Annotated[
        str, matching(r"(Standard|Basic)_[A-Za-z0-9_]+", "Azure VM size", "Standard_D2s_v5")
    ] = "Standard_D2s_v5"
    image: Annotated[
        str,
        matching(
            r"[^:\s]+:[^:\s]+:[^:\s]+:[^:\s]+",
            "image (publisher:offer:sku:version)",
            "Debian:debian-12:12-gen2:latest",
        ),
    ] = "Debian:debian-12:12-gen2:latest"
    disk_size_gb: int = Field(30, ge=30, le=4095)


# --- clusters ---------------------------------------------------------------------


class ClusterConfig(ExecutionConfig):
    kind: ClassVar[str] = "cluster"


class DatabricksConfig(ClusterConfig, service="Databricks"):
    """A Databricks cluster (on AWS, Azure or GCP).

    Examples
    --------
    >>> DatabricksConfig(cluster_id="cluster-123", instance_type="i3.xlarge", num_workers=4)
    DatabricksConfig(cluster_id='cluster-123', instance_type='i3.xlarge', num_workers=4)
    """

    cluster_id: str | None = None
    instance_type: str | None = None
    num_workers: int = Field(2, ge=0, le=10000)
    spark_version: str = "15.4.x-scala2.12"
    host: str | None = None
    token: SecretStr | None = None

    @field_validator("host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        if value is not None and "@" in value.split("://", 1)[-1].split("/", 1)[0]:
            raise ValueError(
                "the workspace URL must not hold credentials (user:password@): "
                "put the access token in DatabricksConfig(token=...)"
            )
        return check_pattern(
            value, r"https://\S+", "Databricks workspace URL", "https://adb-123.azuredatabricks.net"
        )


class SparkConfig(ClusterConfig, service="Spark"):
    """A Spark cluster; the provider decides which managed service runs it
    (EMR on AWS, Dataproc on GCP, Databricks on Azure)."""

    num_executors: int = Field(2, ge=1, le=10000)
    executor_memory: Annotated[
        str, matching(r"0*[1-9]\d*[kmgtKMGT]", "Spark memory size (more than 0)", "4g")
    ] = "4g"
    executor_cores: int = Field(2, ge=1, le=256)
    conf: dict[str, str] = Field(default_factory=dict)


class EMRConfig(ClusterConfig, cloud="aws", service="Amazon EMR"):
    """An Amazon EMR cluster."""

    release_label: Annotated[str, matching(r"emr-\d+\.\d+\.\d+", "EMR release label", "emr-7.5.0")] = (
        "emr-7.5.0"
    )
    instance_type: str = "m5.xlarge"
    num_workers: int = Field(2, ge=1, le=1000)
    applications: tuple[str, ...] = ("Spark",)


class DataprocConfig(ClusterConfig, cloud="gcp", service="Dataproc"):
    """A Google Dataproc cluster."""

    image_version: str = "2.2-debian12"
    machine_type: str = "n2-standard-4"
    num_workers: int = Field(2, ge=0, le=1000)


class DaskConfig(ClusterConfig, service="Dask"):
    """A Dask cluster. ``address=None`` starts a ``LocalCluster`` for the run.

    Examples
    --------
    >>> DaskConfig(n_workers=2)
    DaskConfig(n_workers=2)
    """

    address: Annotated[
        str | None,
        matching(r"(tcp|tls|inproc|ucx|ws|wss)://\S+", "Dask scheduler address", "tcp://127.0.0.1:8786"),
    ] = None
    n_workers: int = Field(2, ge=1, le=4096)
    threads_per_worker: int = Field(1, ge=1, le=256)
    processes: bool = True
    #: ``"auto"`` or a size such as ``"4GiB"``.
    memory_limit: Annotated[
        str | None, matching(r"auto|\d+(\.\d+)?\s*([kKmMgGtT]i?[bB])", "memory size", "4GiB")
    ] = None
