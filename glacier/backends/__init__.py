"""Per-cloud knowledge behind a registry keyed by the provider config's type.

Like fsspec's protocol registry: a read-only mapping from config type to the
dotted path of its backend class, imported only when first used.
"""

from __future__ import annotations

import importlib
from types import MappingProxyType
from typing import TYPE_CHECKING

from glacier.config.providers import AwsConfig, AzureConfig, GcpConfig, LocalConfig, ProviderConfig
from glacier.errors import ConfigError

if TYPE_CHECKING:
    from glacier.backends.base import Backend

__all__ = ["registry", "register_backend", "get_backend"]

_registry: dict[type[ProviderConfig], str] = {
    LocalConfig: "glacier.backends.local:LocalBackend",
    AwsConfig: "glacier.backends.aws:AwsBackend",
    GcpConfig: "glacier.backends.gcp:GcpBackend",
    AzureConfig: "glacier.backends.azure:AzureBackend",
}
#: Read-only view of the registry.
registry = MappingProxyType(_registry)


def register_backend(config_type: type[ProviderConfig], target: str, *, clobber: bool = False) -> None:
    """Register ``"module:Class"`` as the backend for ``config_type``."""
    if config_type in _registry and not clobber and _registry[config_type] != target:
        raise ValueError(f"{config_type.__name__} already has a backend; pass clobber=True to replace it")
    _registry[config_type] = target


def get_backend(config: ProviderConfig) -> Backend:
    """Instantiate the backend registered for ``type(config)`` (or a base class)."""
    for cls in type(config).__mro__:
        target = _registry.get(cls)  # type: ignore[call-overload]
        if target:
            module, _, name = target.partition(":")
            return getattr(importlib.import_module(module), name)(config)
    known = ", ".join(t.__name__ for t in _registry)
    raise ConfigError(f"Provider(config=...) takes one of {known}, not {type(config).__name__}")
