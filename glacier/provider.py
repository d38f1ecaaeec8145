"""The one entry point: ``Provider(config=...)``; the config decides the cloud."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from glacier.clouds.registry import get_backend
from glacier.config.providers import LocalConfig, ProviderConfig
from glacier.display.protocol import Displayable
from glacier.errors import ConfigError

if TYPE_CHECKING:
    from glacier.config import ExecutionConfig, StorageConfig
    from glacier.resources.bucket import Bucket
    from glacier.resources.executor import Executor

__all__ = ["Provider", "DEPLOYED_CLOUD"]

#: Set by the generated Terraform on every deployed task: the cloud the task runs on. A module
#: exported to another cloud (re-targeted) then builds that cloud's provider, so every bucket
#: names the bucket the Terraform created there.
DEPLOYED_CLOUD = "GLACIER_CLOUD"


class Provider(Displayable):
    """Creates storage and execution resources for one cloud (or the local disk).

    Parameters
    ----------
    config : LocalConfig | AwsConfig | GcpConfig | AzureConfig, optional
        Decides where data lives and where code runs. ``None`` means ``LocalConfig()``.
        A deployed task on another cloud (``GLACIER_CLOUD``, set by the generated Terraform)
        uses that cloud's config instead, and its buckets' and executors' configs as the
        export translated them.

    Examples
    --------
    >>> provider = Provider(config=LocalConfig(base_path="./data"))
    >>> provider.bucket(bucket="data", path="input.parquet").format
    'parquet'
    """

    def __init__(self, config: ProviderConfig | None = None) -> None:
        if config is None:
            config = LocalConfig()
        if not isinstance(config, ProviderConfig):
            raise ConfigError(
                "Provider(config=...) takes LocalConfig, AwsConfig, GcpConfig or AzureConfig, "
                f"not {type(config).__name__}"
            )
        deployed = os.environ.get(DEPLOYED_CLOUD)
        #: the config the module wrote, when a deployment on another cloud replaced it
        self.source_config: ProviderConfig | None = None
        if deployed and deployed != config.cloud:
            self.source_config, config = config, _deployed_config(deployed)
        self.config = config
        self._backend = get_backend(config)
        self._buckets: list[Bucket] = []
        self._executors: list[Executor] = []

    @property
    def cloud(self) -> str:
        """``"local"``, ``"aws"``, ``"gcp"`` or ``"azure"``."""
        return self._backend.name

    # -- storage ---------------------------------------------------------------------
    def bucket(self, bucket: str, path: str = "", *, config: StorageConfig | None = None) -> Bucket:
        """A storage resource: ``path`` inside ``bucket`` (a file, glob or folder)."""
        from glacier.resources.bucket import Bucket

        if self.source_config is not None and config is not None:
            from glacier.clouds.deployed import storage_config

            config = storage_config(config, self.cloud, f"bucket {bucket!r}")  # as the export translated it
        resource = Bucket(self, bucket, path, config=config)
        self._buckets = [b for b in self._buckets if b.name != resource.name]
        self._buckets.append(resource)
        return resource

    # -- execution -------------------------------------------------------------------
    def local(self, *, name: str | None = None) -> Executor:
        """Run tasks in this Python process."""
        return self._executor("local", None, name)

    def serverless(self, config: ExecutionConfig | None = None, *, name: str | None = None) -> Executor:
        """A function: Lambda, Cloud Functions or Azure Functions, by the provider."""
        return self._executor("serverless", config, name)

    def vm(self, config: ExecutionConfig | None = None, *, name: str | None = None) -> Executor:
        """A virtual machine: EC2, Compute Engine or an Azure VM, by the provider."""
        return self._executor("vm", config, name)

    def cluster(self, config: ExecutionConfig | None = None, *, name: str | None = None) -> Executor:
        """A cluster: Dask, Databricks, Spark, EMR or Dataproc, by the config."""
        return self._executor("cluster", config, name)

    def _executor(self, kind: str, config: Any, name: str | None) -> Executor:
        from glacier.resources.executor import Executor

        if self.source_config is not None:  # deployed elsewhere: the config as the export translated it
            from glacier.clouds.deployed import execution_config

            source = self.source_config
            written = config if kind == "local" else get_backend(source).check_execution_config(kind, config)
            name = self._name(kind, written, name)  # named as where the module was written
            config, known = execution_config(kind, config, self.cloud, source.cloud, f"executor {name!r}")
            checked = (
                config if not known or kind == "local" else self._backend.check_execution_config(kind, config)
            )
        else:
            checked = config if kind == "local" else self._backend.check_execution_config(kind, config)
            name = self._name(kind, checked, name)
        executor = Executor(self, kind, checked, name)
        self._executors = [e for e in self._executors if e.name != name]
        self._executors.append(executor)
        return executor

    def _name(self, kind: str, config: Any, name: str | None) -> str:
        """``name``, checked, or a free one made from the config's type (``lambda_2``)."""
        if name is None:
            base = kind if config is None else _snake(type(config).__name__.removesuffix("Config"))
            taken = {e.name for e in self._executors}
            name, n = base, 1
            while name in taken:
                n += 1
                name = f"{base}_{n}"
        elif not name.isidentifier():
            raise ConfigError(f"executor name {name!r} must be a Python identifier, for example 'etl_lambda'")
        return name

    # -- introspection ---------------------------------------------------------------
    @property
    def buckets(self) -> tuple[Bucket, ...]:
        return tuple(self._buckets)

    @property
    def executors(self) -> tuple[Executor, ...]:
        return tuple(self._executors)

    def describe(self) -> dict[str, Any]:
        """Facts shown in displays (no secrets)."""
        return {
            **self._backend.describe(),
            "config": type(self.config).__name__,
            "buckets": [
                {"name": b.name, "uri": b.get_uri(), "config": type(b.config).__name__ if b.config else None}
                for b in self._buckets
            ],
            "executors": [e.describe() for e in self._executors],
        }

    def _bundle_(self) -> dict[str, Any]:
        from glacier.display.resources import provider_bundle

        return provider_bundle(self)

    def __repr__(self) -> str:
        return f"Provider(config={self.config!r})"


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if (
            ch.isupper()
            and i
            and (not name[i - 1].isupper() or (i + 1 < len(name) and name[i + 1].islower()))
        ):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def _deployed_config(cloud: str) -> ProviderConfig:
    """The provider config of a deployed task on ``cloud``: its defaults read the standard
    variables of the runtime (``AWS_REGION``, ``GOOGLE_CLOUD_PROJECT``, ``AZURE_STORAGE_ACCOUNT``)."""
    from glacier.config.providers import AwsConfig, AzureConfig, GcpConfig

    configs: dict[str, type[ProviderConfig]] = {"aws": AwsConfig, "gcp": GcpConfig, "azure": AzureConfig}
    if cloud not in configs:
        raise ConfigError(
            f"{DEPLOYED_CLOUD}={cloud!r} names no cloud Glacier deploys to: use aws, gcp or azure"
        )
    return configs[cloud]()
