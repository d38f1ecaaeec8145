"""Everything Glacier knows about each cloud, one folder per cloud.

``local/``, ``aws/``, ``gcp/`` and ``azure/`` each hold that cloud's storage backend
(and upload), its Terraform renderer and its re-targeting facts; ``registry`` names
them all, keyed by the provider config's type (``glacier.clouds.registry.registry``). Adding a cloud is one folder and one
:func:`register_cloud` call.

``CLOUDS`` names the clouds a pipeline can be exported to (``--cloud``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["CLOUDS", "Cloud", "register_cloud", "get_backend", "cloud_named"]

#: The clouds a pipeline can be exported to and rehearsed on, in display order.
CLOUDS: tuple[str, ...] = ("aws", "gcp", "azure")

_LAZY = frozenset({"Cloud", "register_cloud", "get_backend", "cloud_named"})


# The registry imports the configs (pydantic): it loads on first use, so that ``CLOUDS`` stays
# cheap for the command line and ``%load_ext glacier``.
def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module("glacier.clouds.registry"), name)
    raise AttributeError(f"module 'glacier.clouds' has no attribute {name!r}")
