"""Glacier: cloud-agnostic data pipelines, built in a notebook.

Examples
--------
>>> from glacier import Provider, pipeline
>>> from glacier.config import LocalConfig
>>> provider = Provider(config=LocalConfig(base_path="./data"))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glacier.errors import (
    ConfigError,
    DefinitionError,
    GlacierError,
    MissingDependencyError,
    PipelineError,
    StorageError,
)

if TYPE_CHECKING:
    from glacier.pipelines import Pipeline, pipeline
    from glacier.provider import Provider

__version__ = "0.1.0"

__all__ = [
    "Provider",
    "pipeline",
    "Pipeline",
    "GlacierError",
    "ConfigError",
    "DefinitionError",
    "MissingDependencyError",
    "PipelineError",
    "StorageError",
    "load_ipython_extension",
    "unload_ipython_extension",
    "__version__",
]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext glacier``: registers the ``%glacier`` magic and rich displays."""
    from glacier_jupyter import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext glacier``."""
    from glacier_jupyter import unload_ipython_extension as _unload

    _unload(ipython)


# Provider, pipeline and Pipeline import polars (~0.5 s): they load on first use, so that
# the `glacier` command line starts fast. `from glacier import Provider, pipeline` is unchanged.
def __getattr__(name: str) -> Any:
    if name == "Provider":
        from glacier.provider import Provider

        return Provider
    if name in ("pipeline", "Pipeline"):
        from glacier import pipelines

        return getattr(pipelines, name)
    raise AttributeError(f"module 'glacier' has no attribute {name!r}")
