"""Glacier's exceptions.

::

    GlacierError
    ├── ConfigError (ValueError)            a config that does not fit where it is used
    ├── MissingDependencyError (ImportError) an optional extra is not installed
    ├── StorageError                        a read or write that cannot be done
    │   └── BucketPathError (ValueError)    a path that escapes its bucket
    ├── DefinitionError (TypeError)         a task or pipeline defined or called wrongly
    └── PipelineError                       a run failed; ``.record`` says what happened
        └── DeploymentRequiredError         the executor's engine is not deployed
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from glacier.run.record import RunRecord

__all__ = [
    "GlacierError",
    "ConfigError",
    "MissingDependencyError",
    "StorageError",
    "BucketPathError",
    "DefinitionError",
    "PipelineError",
    "DeploymentRequiredError",
    "require",
]


class GlacierError(Exception):
    """Base of every error Glacier raises on purpose."""


class ConfigError(GlacierError, ValueError):
    """A config that does not fit where it is used (wrong cloud, wrong kind)."""


class MissingDependencyError(GlacierError, ImportError):
    """An optional dependency is missing; the message gives the ``pip install`` line."""


class StorageError(GlacierError):
    """A read or write that cannot be done (missing object, unknown format ...)."""


class BucketPathError(StorageError, ValueError):
    """A bucket path that is absolute or escapes its bucket."""


class DefinitionError(GlacierError, TypeError):
    """A task or pipeline that is defined or called wrongly."""


class PipelineError(GlacierError):
    """A pipeline run failed. ``record`` holds every task's status."""

    def __init__(self, message: str, record: RunRecord | None = None) -> None:
        super().__init__(message)
        self.record = record


class DeploymentRequiredError(PipelineError):
    """An executor whose engine needs deployed cloud infrastructure."""


def require(module: str, extra: str, purpose: str) -> Any:
    """Import ``module`` or raise ``MissingDependencyError`` naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{purpose} needs the '{module}' package: pip install \"glacier-pipelines[{extra}]\""
        ) from exc
