"""Translate storage and execution configs to another cloud, or say what has no equivalent.

What each cloud knows (its config types, storage tiers, machine sizes, runtimes) is in
``glacier/clouds/<cloud>/retarget.py`` as a :class:`Retarget`; this module holds the
cloud-neutral steps: read the source config as neutral facts with its own cloud's
knowledge, then build the target cloud's config from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from glacier.clouds import CLOUDS
from glacier.clouds.backend import Backend, Services
from glacier.config.execution import (
    DaskConfig,
    DatabricksConfig,
    ExecutionConfig,
    ServerlessConfig,
    SparkConfig,
)
from glacier.config.storage import StorageConfig
from glacier.errors import ConfigError

__all__ = [
    "CLOUDS",
    "MACHINES",
    "Retarget",
    "Fail",
    "retarget_for",
    "storage_for",
    "execution_for",
    "default_serverless",
    "map_instance_type",
    "explicit",
]

#: Comparable machine sizes (vCPU and memory), one column per cloud in ``CLOUDS`` order.
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


@dataclass(frozen=True)
class Fail:
    """Builds the error for a field of ``config`` that has no equivalent on ``cloud``."""

    where: str
    config: Any
    cloud: str

    def __call__(self, field: str, hint: str = "") -> ConfigError:
        value = getattr(self.config, field)
        more = f" ({hint})" if hint else ""
        source = retarget_for(self.config.cloud).label if self.config.cloud in CLOUDS else "its own cloud"
        return ConfigError(
            f"{self.where}: {type(self.config).__name__}({field}={value!r}) has no equivalent on "
            f"{retarget_for(self.cloud).label}{more}; remove it or keep the pipeline on {source}"
        )


class Retarget:
    """What one cloud knows for re-targeting: subclassed in ``glacier/clouds/<cloud>/retarget.py``.

    The ``*_out`` methods read this cloud's configs as neutral facts (raising through
    ``fail`` for what has no equivalent on the target); the ``make_*`` methods build this
    cloud's configs from neutral facts.
    """

    #: The cloud's storage backend; its name, label and config types follow from it.
    backend: ClassVar[type[Backend[Any]]]
    cloud: ClassVar[str]
    label: ClassVar[str]
    services: ClassVar[Services]
    #: Native storage class -> neutral tier (``hot``, ``cool``, ``cold``, ``archive``...).
    tiers: ClassVar[dict[str, str]]
    #: Neutral tier -> the first native class listed for it.
    tiers_back: ClassVar[dict[str, str]]
    #: The storage config field that holds the class (``storage_class`` or ``tier``).
    tier_field: ClassVar[str] = "storage_class"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        services = cls.backend.services
        if services is None:
            raise TypeError(f"{cls.backend.__name__} declares no services to re-target to")
        cls.cloud, cls.label, cls.services = cls.backend.name, cls.backend.config_type.service, services
        cls.tiers_back = {}
        for native, tier in cls.tiers.items():
            cls.tiers_back.setdefault(tier, native)

    def owns(self, machine: str) -> bool:
        """Whether ``machine`` looks like one of this cloud's machine types."""
        raise NotImplementedError

    def local_function(self) -> ExecutionConfig:
        """The function config that runs tasks bound to ``provider.local()``: longest timeout."""
        raise NotImplementedError

    # -- storage ---------------------------------------------------------------------
    def storage_out(self, config: Any, fail: Fail) -> tuple[str, bool]:
        """(neutral tier, versioning) of this cloud's storage ``config``."""
        raise NotImplementedError

    def make_storage(self, storage_class: str, versioning: bool) -> StorageConfig:
        raise NotImplementedError

    # -- functions -------------------------------------------------------------------
    def memory(self, memory: int, fail: Fail) -> int:
        """The memory this cloud's functions offer for ``memory`` MB."""
        return memory

    def version(self, config: Any) -> str:
        """The Python version (``"3.12"``) of this cloud's function ``config``."""
        raise NotImplementedError

    def runtime(self, version: str) -> str:
        """This cloud's runtime name for Python ``version``."""
        raise NotImplementedError

    def serverless_out(self, config: Any, cloud: str, fail: Fail) -> dict[str, Any]:
        """Fields for ``cloud``'s function config from the rest of this cloud's ``config``."""
        return {}

    # -- machines and clusters -------------------------------------------------------
    def vm_out(self, config: Any, fail: Fail) -> tuple[str, int, str]:
        """(machine type, disk GB, the machine field's name) of this cloud's VM ``config``."""
        raise NotImplementedError

    def make_vm(self, machine: str, disk: int) -> ExecutionConfig:
        raise NotImplementedError

    def cluster_out(self, config: Any, fail: Fail) -> tuple[str, int, str]:
        """(machine type, workers, the machine field's name) of this cloud's own cluster ``config``."""
        raise ConfigError(f"{fail.where}: {type(config).__name__} is not a cluster config Glacier can export")

    def make_cluster(self, machine: str, workers: int) -> ExecutionConfig:
        """A Spark cluster of ``workers`` nodes of type ``machine``."""
        raise NotImplementedError

    def spark(self, workers: int) -> ExecutionConfig:
        """What runs a ``SparkConfig`` of ``workers`` executors here."""
        raise NotImplementedError


def retarget_for(cloud: str) -> Retarget:
    """The re-targeting facts of ``cloud``, from the clouds registry."""
    from glacier.clouds.registry import cloud_named

    return cloud_named(cloud).load_retarget()


def explicit(config: Any, field: str) -> bool:
    return (
        field in config.model_fields_set
        and getattr(config, field) != type(config).model_fields[field].default
    )


def storage_for(config: StorageConfig | None, cloud: str, where: str) -> StorageConfig:
    """``config`` as the target cloud's storage config (defaults when ``None``)."""
    target = retarget_for(cloud)
    if config is None:
        return target.services.storage()
    if isinstance(config, target.services.storage):
        return config
    source = retarget_for(config.cloud)
    fail = Fail(where, config, cloud)
    tier, versioning = source.storage_out(config, fail)
    back = target.tiers_back.get(tier)
    if back is None:
        raise fail(source.tier_field)
    return target.make_storage(back, versioning)


def map_instance_type(value: str, cloud: str, where: str, owner: Any, field: str) -> str:
    """The machine type on ``cloud`` comparable to ``value`` (see :data:`MACHINES`)."""
    column = CLOUDS.index(cloud)
    for row in MACHINES:
        if value in row:
            return row[column]
    home = _cloud_of_type(value)
    known = ", ".join(row[CLOUDS.index(home)] for row in MACHINES) if home else ""
    raise ConfigError(
        f"{where}: {type(owner).__name__}({field}={value!r}) has no known equivalent on "
        f"{retarget_for(cloud).label}"
        + (f"; Glacier maps these: {known}" if known else "")
        + "; choose a mapped size or keep the pipeline on its own cloud"
    )


def _cloud_of_type(value: str) -> str | None:
    return next((c for c in CLOUDS if retarget_for(c).owns(value)), None)


def default_serverless(cloud: str) -> ExecutionConfig:
    """The function config used for tasks bound to ``provider.local()``: longest timeout."""
    return retarget_for(cloud).local_function()


def _serverless(config: ServerlessConfig, cloud: str, where: str) -> ExecutionConfig:
    target, source = retarget_for(cloud), retarget_for(config.cloud)
    fail = Fail(where, config, cloud)
    fields: dict[str, Any] = {
        "memory": target.memory(config.memory, fail),
        "timeout": config.timeout,
        "runtime": target.runtime(source.version(config)),
        **source.serverless_out(config, cloud, fail),
    }
    try:
        return target.services.serverless(**fields)
    except ValueError as exc:
        first = str(exc).splitlines()
        raise ConfigError(
            f"{where}: {type(config).__name__} does not fit {target.services.serverless.__name__} on {target.label}: "
            + " ".join(first[1:3]).strip()
        ) from None


def _vm(config: ExecutionConfig, cloud: str, where: str) -> ExecutionConfig:
    machine, disk, field = retarget_for(config.cloud).vm_out(config, Fail(where, config, cloud))
    return retarget_for(cloud).make_vm(map_instance_type(machine, cloud, where, config, field), disk)


def _cluster(config: ExecutionConfig, cloud: str, where: str, source_cloud: str) -> ExecutionConfig:
    target = retarget_for(cloud)
    if isinstance(config, DaskConfig):
        raise ConfigError(
            f"{where}: DaskConfig has no managed service to generate on {target.label}: "
            "bind these tasks to provider.cluster(config=SparkConfig(...)) or DatabricksConfig, "
            "or deploy the Dask scheduler yourself and keep them out of the Terraform export"
        )
    if isinstance(config, DatabricksConfig):
        if config.instance_type and source_cloud != cloud and _cloud_of_type(config.instance_type) != cloud:
            mapped = map_instance_type(config.instance_type, cloud, where, config, "instance_type")
            return config.model_copy(update={"instance_type": mapped})
        return config
    if isinstance(config, SparkConfig):
        return target.spark(config.num_executors)
    if config.cloud == cloud:
        return config
    if config.cloud not in CLOUDS:
        raise ConfigError(f"{where}: {type(config).__name__} is not a cluster config Glacier can export")
    machine, workers, field = retarget_for(config.cloud).cluster_out(config, Fail(where, config, cloud))
    return target.make_cluster(map_instance_type(machine, cloud, where, config, field), workers)


def execution_for(
    kind: str, config: ExecutionConfig | None, cloud: str, where: str, source_cloud: str
) -> ExecutionConfig:
    """``config`` as an equivalent config on ``cloud`` (defaults when ``None``)."""
    target = retarget_for(cloud)
    if kind == "local":
        return target.local_function()
    if kind == "cluster":
        return _cluster(config if config is not None else DatabricksConfig(), cloud, where, source_cloud)
    wanted = target.services.serverless if kind == "serverless" else target.services.vm
    if config is None:
        return wanted()
    if isinstance(config, wanted):
        return config
    if isinstance(config, ServerlessConfig):
        return _serverless(config, cloud, where)
    return _vm(config, cloud, where)
