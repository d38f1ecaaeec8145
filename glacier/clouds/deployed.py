"""The provider config of a deployment: what a module's ``Provider`` uses once deployed.

The generated Terraform sets ``GLACIER_PROVIDER_CONFIG`` on every function, VM and cluster
it creates, to the JSON of the target cloud's provider config (``{"cloud": "gcp",
"project_id": ..., "region": ...}``; never a secret: deployed code uses the identity the
Terraform gives it). ``Provider`` honours it, so a module written with ``AwsConfig`` and
exported to Google Cloud reads and writes the generated GCS buckets once deployed: every
``Provider`` of the module takes the deployment's config, and the storage and execution
configs given to its buckets and executors are re-targeted as the export re-targeted them.

Examples
--------
>>> import os
>>> os.environ[ENV] = '{"cloud": "gcp", "project_id": "my-project"}'  # doctest: +SKIP
>>> Provider(config=AwsConfig()).cloud  # doctest: +SKIP
'gcp'
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from glacier.errors import ConfigError

if TYPE_CHECKING:
    from glacier.config import ExecutionConfig, ProviderConfig, StorageConfig

__all__ = ["ENV", "deployed_config", "config_json", "storage_config", "execution_config"]

#: The environment variable the generated Terraform sets on deployed code.
ENV = "GLACIER_PROVIDER_CONFIG"


def _config_types() -> dict[str, type[ProviderConfig]]:
    from glacier.clouds.registry import registry

    return {config_type.cloud: config_type for config_type in registry}


def deployed_config() -> ProviderConfig | None:
    """The provider config ``GLACIER_PROVIDER_CONFIG`` names, or ``None`` when it is not set."""
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return None
    types = _config_types()
    example = '{"cloud": "gcp", "project_id": "my-project", "region": "us-central1"}'
    try:
        data = json.loads(raw)
    except ValueError:
        raise ConfigError(f"{ENV} is not JSON: give a provider config such as {example}") from None
    if not isinstance(data, dict) or data.get("cloud") not in types:
        raise ConfigError(
            f"{ENV} must be a JSON object whose 'cloud' is one of {', '.join(sorted(types))}, "
            f"for example {example}"
        )
    fields = {k: v for k, v in data.items() if k != "cloud"}
    return types[data["cloud"]](**fields)


def config_json(cloud: str, **fields: Any) -> dict[str, Any]:
    """The value of ``GLACIER_PROVIDER_CONFIG`` for ``cloud`` (a dict the renderers ``jsonencode``)."""
    return {"cloud": cloud, **fields}


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
