"""Terraform from the pipeline: plain HCL for AWS, GCP and Azure, secure by default.

Examples
--------
>>> from glacier.terraform import export, render  # doctest: +SKIP
>>> files = render(ml_pipeline, cloud="gcp")  # doctest: +SKIP
>>> sorted(files)[:4]  # doctest: +SKIP
['main.tf', 'outputs.tf', 'src/glacier_handler.py', ...]
>>> export(ml_pipeline, "infra/")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from glacier.config.providers import AwsConfig, AzureConfig, GcpConfig, ProviderConfig

if TYPE_CHECKING:
    from glacier.pipelines import Pipeline
    from glacier.provider import Provider

__all__ = ["export", "render", "renderers", "register_renderer", "CLOUDS"]

CLOUDS = ("aws", "gcp", "azure")
_registry: dict[type[ProviderConfig], str] = {
    AwsConfig: "glacier.terraform.aws:AwsRenderer",
    GcpConfig: "glacier.terraform.gcp:GcpRenderer",
    AzureConfig: "glacier.terraform.azure:AzureRenderer",
}
#: Read-only view: provider-config type -> ``"module:Class"`` of its renderer.
renderers = MappingProxyType(_registry)
_BY_CLOUD = {"aws": AwsConfig, "gcp": GcpConfig, "azure": AzureConfig}


def register_renderer(config_type: type[ProviderConfig], target: str, *, clobber: bool = False) -> None:
    """Register ``"module:Class"`` as the Terraform renderer for ``config_type``."""
    if config_type in _registry and not clobber and _registry[config_type] != target:
        raise ValueError(f"{config_type.__name__} already has a renderer; pass clobber=True to replace it")
    _registry[config_type] = target


def _renderer(cloud: str) -> Any:
    module, _, name = _registry[_BY_CLOUD[cloud]].partition(":")
    return getattr(importlib.import_module(module), name)


def render(target: Pipeline | list[Pipeline] | Provider, *, cloud: str | None = None) -> dict[str, str]:
    """The Terraform folder for ``target`` as ``{relative path: text}``.

    Parameters
    ----------
    target : Pipeline, list of Pipeline, or Provider
        A Provider means every live pipeline whose tasks or buckets use it.
    cloud : {"aws", "gcp", "azure"}, optional
        Re-target to this cloud; default: the cloud of the pipeline's provider config.
    """
    from glacier.terraform.plan import build_plan

    plan = build_plan(target, cloud=cloud)
    return _renderer(plan.cloud)(plan).render()


def export(
    target: Pipeline | list[Pipeline] | Provider, out_dir: str | Path, *, cloud: str | None = None
) -> list[Path]:
    """Write the Terraform folder for ``target`` into ``out_dir``; return the files written.

    Nothing is written when the pipeline cannot be exported (the error says why). Files
    already in ``out_dir`` that Glacier does not generate (``terraform.tfvars``,
    ``.terraform/``) are left alone; unchanged files are not rewritten.
    """
    files = render(target, cloud=cloud)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for rel, text in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode("utf-8")
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
        written.append(path)
    return written
