"""What every cloud backend knows: names, URIs, defaults and what fits it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

from glacier.config.execution import (
    DaskConfig,
    DatabricksConfig,
    ExecutionConfig,
    SparkConfig,
)
from glacier.errors import ConfigError
from glacier.storage.paths import check_bucket_path

if TYPE_CHECKING:
    from glacier.config import ProviderConfig, StorageConfig
    from glacier.storage.upload import Upload

__all__ = ["Backend", "KINDS", "check_bucket_path"]

#: Execution kinds and the provider method that makes each.
KINDS = ("local", "serverless", "vm", "cluster")
#: Cluster configs every cloud (and the local provider) accepts.
PORTABLE_CLUSTERS: tuple[type[ExecutionConfig], ...] = (DatabricksConfig, SparkConfig, DaskConfig)


class Backend:
    """Per-cloud knowledge, looked up by the provider config's type.

    Subclasses set the class attributes and override the hooks they need; the
    storage I/O is generic (fsspec + polars) and asks the backend only for
    ``filesystem`` and ``storage_options``.
    """

    name: ClassVar[str] = ""
    scheme: ClassVar[str] = ""
    storage_config: ClassVar[type[StorageConfig] | None] = None
    #: Accepted execution config types per kind; the first is the default.
    execution: ClassVar[dict[str, tuple[type[ExecutionConfig], ...]]] = {}
    #: Regular expression and rule text for bucket names.
    bucket_pattern: ClassVar[str] = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
    bucket_rule: ClassVar[str] = "3-63 lowercase letters, digits, dots and hyphens"
    #: Extra to install for this backend's I/O.
    extra: ClassVar[str] = ""

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config

    # -- validation ------------------------------------------------------------------
    def check_bucket_name(self, bucket: str) -> None:
        """Raise ``ConfigError`` when ``bucket`` breaks this cloud's naming rules."""
        if not isinstance(bucket, str) or not re.fullmatch(self.bucket_pattern, bucket):
            raise ConfigError(
                f"bucket name {bucket!r} is not valid on {self.config.service}: "
                f"use {self.bucket_rule} (for example 'my-data')"
            )
        self._extra_bucket_checks(bucket)

    def _extra_bucket_checks(self, bucket: str) -> None:
        """Cloud-specific rules beyond the pattern."""

    def check_storage_config(self, config: StorageConfig | None) -> StorageConfig | None:
        """Return the storage config to use, or raise when it belongs to another cloud."""
        if config is None:
            return self.storage_config() if self.storage_config else None
        if self.storage_config is not None and not isinstance(config, self.storage_config):
            raise ConfigError(
                f"{type(config).__name__} is for {config.service}, but this provider is "
                f"{type(self.config).__name__} ({self.config.service}): use "
                f"{self.storage_config.__name__}(...) or config=None"
            )
        return config

    def check_execution_config(self, kind: str, config: ExecutionConfig | None) -> ExecutionConfig | None:
        """Return the execution config for ``kind``, defaulting when ``None``."""
        accepted = self.execution.get(kind, ())
        if config is None:
            return accepted[0]() if accepted else None
        if not isinstance(config, ExecutionConfig):
            raise ConfigError(
                f"provider.{kind}(config=...) takes an execution config such as "
                f"{_names(accepted) or 'LambdaConfig'}, not {type(config).__name__}"
            )
        if config.kind != kind:
            raise ConfigError(
                f"{type(config).__name__} is a {config.kind} config: use "
                f"provider.{config.kind}(config={type(config).__name__}(...)), not provider.{kind}()"
            )
        if not isinstance(config, accepted):
            raise ConfigError(
                f"{type(config).__name__} ({config.service}) does not run on "
                f"{type(self.config).__name__} ({self.config.service}): for provider.{kind}() "
                f"use {_names(accepted)}"
            )
        return config

    # -- storage -----------------------------------------------------------------------
    def uri(self, bucket: str, path: str) -> str:
        """The URI of ``path`` inside ``bucket``."""
        return f"{self.scheme}://{bucket}/{path}" if path else f"{self.scheme}://{bucket}"

    def filesystem(self, storage: StorageConfig | None) -> Any:
        """An fsspec filesystem for this cloud (imports the cloud's extra lazily)."""
        raise NotImplementedError

    def storage_options(self, storage: StorageConfig | None) -> dict[str, Any] | None:
        """Options for polars' native object-store reader, or ``None`` to use fsspec."""
        return None

    def open_upload(self, fs: Any, uri: str, storage: StorageConfig | None) -> Upload:
        """A streaming upload to ``uri`` that publishes the object only when committed.

        The default feeds an fsspec file opened with ``"wb"`` (``upload_options`` are
        its ``open`` options); backends with parallel part uploads override this.
        """
        from glacier.storage.upload import FileUpload

        return FileUpload(fs.open(uri, "wb", **self.upload_options(storage)))

    def upload_options(self, storage: StorageConfig | None) -> dict[str, Any]:
        """What the storage config sets on each uploaded object (encryption, tier...)."""
        return {}

    def describe(self) -> dict[str, Any]:
        """Provider facts shown in displays (no secrets)."""
        return {"cloud": self.name, **self.config.public_dict()}


def _names(types: tuple[type, ...]) -> str:
    return ", ".join(t.__name__ for t in types)
