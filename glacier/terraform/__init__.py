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

from pathlib import Path
from typing import TYPE_CHECKING

from glacier.clouds import CLOUDS

if TYPE_CHECKING:
    from glacier.pipelines import Pipeline
    from glacier.provider import Provider

__all__ = ["export", "render", "CLOUDS"]


def render(target: Pipeline | list[Pipeline] | Provider, *, cloud: str | None = None) -> dict[str, str]:
    """The Terraform folder for ``target`` as ``{relative path: text}``.

    Parameters
    ----------
    target : Pipeline, list of Pipeline, or Provider
        A Provider means every live pipeline whose tasks or buckets use it.
    cloud : {"aws", "gcp", "azure"}, optional
        Re-target to this cloud; default: the cloud of the pipeline's provider config.
    """
    from glacier.clouds.registry import cloud_named
    from glacier.terraform.plan import build_plan

    plan = build_plan(target, cloud=cloud)
    return cloud_named(plan.cloud).load_renderer()(plan).render()


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
