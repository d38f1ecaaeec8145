"""The one registry of clouds, keyed by the provider config's type.

Like fsspec's ``known_implementations``: a read-only mapping from a config type to
what Glacier knows about that cloud, named by dotted paths that are imported only
when first used (``import glacier`` loads no cloud SDK and no renderer).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from glacier.config.providers import AwsConfig, AzureConfig, GcpConfig, LocalConfig, ProviderConfig
from glacier.errors import ConfigError

if TYPE_CHECKING:
    from glacier.clouds.backend import Backend
    from glacier.terraform.base import Renderer
    from glacier.terraform.retarget import Retarget

__all__ = ["Cloud", "registry", "register_cloud", "get_backend", "cloud_named", "load"]


@dataclass(frozen=True)
class Cloud:
    """Where one cloud's pieces live (``"module:attribute"``) and what to install for it."""

    name: str
    backend: str
    #: The Terraform renderer; ``None`` for a target Glacier does not deploy to.
    renderer: str | None = None
    #: The cloud's re-targeting facts (config types, tiers, runtimes).
    retarget: str | None = None
    #: The builder of the cloud's deployment packages (``build(plan, wheels, out_dir)``).
    package: str | None = None
    #: The ``pip install`` line that brings the cloud's storage libraries.
    hint: str = ""

    def load_backend(self) -> type[Backend[Any]]:
        return load(self.backend)

    def load_renderer(self) -> type[Renderer]:
        if self.renderer is None:
            raise ConfigError(f"{self.name} has no Terraform renderer: use one of aws, gcp, azure")
        return load(self.renderer)

    def load_package(self) -> Callable[..., Any]:
        if self.package is None:
            raise ConfigError(f"{self.name} has no deployment packages: use one of aws, gcp, azure")
        return load(self.package)

    def load_retarget(self) -> Retarget:
        if self.retarget is None:
            raise ConfigError(f"{self.name} is not a cloud to re-target to: use one of aws, gcp, azure")
        return load(self.retarget)


def _cloud(name: str, classes: str) -> Cloud:
    base = f"glacier.clouds.{name}"
    return Cloud(
        name,
        backend=f"{base}.backend:{classes}Backend",
        renderer=f"{base}.terraform:{classes}Renderer",
        retarget=f"{base}.retarget:RETARGET",
        package=f"{base}.package:build",
        hint=f'pip install "glacier-pipelines[{name}]"',
    )


_registry: dict[type[ProviderConfig], Cloud] = {
    LocalConfig: Cloud("local", backend="glacier.clouds.local.backend:LocalBackend"),
    AwsConfig: _cloud("aws", "Aws"),
    GcpConfig: _cloud("gcp", "Gcp"),
    AzureConfig: _cloud("azure", "Azure"),
}
#: Read-only view: provider-config type -> :class:`Cloud`.
registry = MappingProxyType(_registry)


def register_cloud(config_type: type[ProviderConfig], cloud: Cloud, *, clobber: bool = False) -> None:
    """Register ``cloud`` for ``config_type``; replacing another entry needs ``clobber=True``."""
    if config_type in _registry and not clobber and _registry[config_type] != cloud:
        raise ValueError(f"{config_type.__name__} already has a cloud; pass clobber=True to replace it")
    _registry[config_type] = cloud


def load(target: str) -> Any:
    """The attribute ``"module:name"`` names, imported now."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _entry(config: ProviderConfig) -> Cloud:
    for cls in type(config).__mro__:
        if issubclass(cls, ProviderConfig) and cls in _registry:
            return _registry[cls]
    known = ", ".join(t.__name__ for t in _registry)
    raise ConfigError(f"Provider(config=...) takes one of {known}, not {type(config).__name__}")


def get_backend(config: ProviderConfig) -> Backend[Any]:
    """The backend registered for ``type(config)`` (or a base class), made for ``config``."""
    entry = _entry(config)
    return entry.load_backend()(config, hint=entry.hint)


def cloud_named(name: str) -> Cloud:
    """The registered cloud called ``name`` (``"aws"``, ``"gcp"``, ``"azure"``, ``"local"``)."""
    for entry in _registry.values():
        if entry.name == name:
            return entry
    known = ", ".join(repr(e.name) for e in _registry.values())
    raise ConfigError(f"no cloud named {name!r}: use one of {known}")
