"""Everything Glacier knows about each cloud, one folder per cloud.

``local/``, ``aws/``, ``gcp/`` and ``azure/`` each hold that cloud's storage backend
(and upload), its Terraform renderer and its re-targeting facts; ``registry`` names
them all, keyed by the provider config's type. Adding a cloud is one folder and one
:func:`register_cloud` call.

``CLOUDS`` names the clouds a pipeline can be exported to (``--cloud``).
"""

from __future__ import annotations

from glacier.clouds.registry import Cloud, cloud_named, get_backend, register_cloud, registry

__all__ = ["CLOUDS", "Cloud", "registry", "register_cloud", "get_backend", "cloud_named"]

#: The clouds a pipeline can be exported to and rehearsed on, in display order.
CLOUDS: tuple[str, ...] = ("aws", "gcp", "azure")
