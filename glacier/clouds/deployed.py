"""What a deployed module's configs become on the cloud it was exported to.

The generated Terraform sets ``GLACIER_CLOUD`` on every function, VM and cluster task
(``glacier.provider.DEPLOYED_CLOUD``), with the cloud's standard variables
(``GOOGLE_CLOUD_PROJECT``, ``AZURE_STORAGE_ACCOUNT``, ...). A ``Provider`` written for
another cloud then builds the deployment cloud's provider, and the storage and execution
configs given to its buckets and executors are translated as the export translated them
(an ``S3Config(storage_class="STANDARD_IA")`` bucket is a cool-tier blob container on Azure).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from glacier.errors import ConfigError

if TYPE_CHECKING:
    from glacier.config import ExecutionConfig, StorageConfig

__all__ = ["storage_config", "execution_config"]


def storage_config(config: StorageConfig | None, cloud: str, where: str) -> StorageConfig | None:
    """A bucket's storage ``config`` as the export re-targeted it to ``cloud`` (the target's
    defaults for one without an equivalent: such a bucket was not exported)."""
    from glacier.terraform.retarget import storage_for

    try:
        return storage_for(config, cloud, where)
    except ConfigError:
        return None


def execution_config(
    kind: str, config: ExecutionConfig | None, cloud: str, source: str, where: str
) -> tuple[ExecutionConfig | None, bool]:
    """An executor's ``config`` as the export re-targeted it: ``(config, checked)``.

    ``checked`` is false when it has no equivalent on ``cloud`` (a Dask cluster, say): the
    deployed code never dispatches on executor configs, so it is kept as written.
    """
    from glacier.terraform.retarget import execution_for

    if kind == "local":
        return None, True
    try:
        return execution_for(kind, config, cloud, where, source), True
    except ConfigError:
        return config, False
