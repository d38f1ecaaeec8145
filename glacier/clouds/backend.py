"""What every storage backend knows: names, URIs, defaults, what fits it, how it writes.

:class:`Backend` is generic over its provider config (``Backend[AwsConfig]``), so a
backend reads its own config's fields with their types. The local disk and the object
stores differ only through the hooks defined here (``to_fs``/``from_fs``, ``write``,
``write_partitioned``, ``delete``, ``instant``); :class:`ObjectStore` is the base of the
three clouds.
"""

from __future__ import annotations

import contextlib
import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, get_args

import polars as pl

from glacier.config.execution import (
    DaskConfig,
    DatabricksConfig,
    ExecutionConfig,
    SparkConfig,
)
from glacier.config.providers import ProviderConfig
from glacier.errors import ConfigError, MissingDependencyError
from glacier.storage import io
from glacier.storage.errors import Hints
from glacier.storage.listing import version_of
from glacier.storage.paths import check_bucket_path

if TYPE_CHECKING:
    from glacier.config import StorageConfig
    from glacier.storage.upload import Upload

__all__ = [
    "Backend",
    "ObjectStore",
    "Services",
    "Place",
    "Errors",
    "KINDS",
    "PORTABLE_CLUSTERS",
    "check_bucket_path",
]

C = TypeVar("C", bound=ProviderConfig)
#: ``errors(action, uri=None)``: a context that turns storage failures into ``StorageError``.
Errors = Callable[..., contextlib.AbstractContextManager[None]]
Frame = pl.DataFrame | pl.LazyFrame


@dataclass(frozen=True)
class Services:
    """A cloud's own config types: what a bucket, a function, a VM and a native cluster take.

    The first of each is the default of its kind; ``cluster`` is ``None`` where Spark runs
    on Databricks only. The backend, the re-targeting facts and the renderer read them here.
    """

    storage: type[StorageConfig]
    serverless: type[ExecutionConfig]
    vm: type[ExecutionConfig]
    cluster: type[ExecutionConfig] | None = None

    def execution(self) -> dict[str, tuple[type[ExecutionConfig], ...]]:
        """Accepted execution config types per kind; the first is the default."""
        native = (self.cluster,) if self.cluster is not None else ()
        return {"serverless": (self.serverless,), "vm": (self.vm,), "cluster": (*native, *PORTABLE_CLUSTERS)}


@dataclass(frozen=True)
class Place:
    """Where a bucket's writes go: its filesystem, its storage config, its error context."""

    fs: Any
    storage: StorageConfig | None
    errors: Errors


#: Execution kinds and the provider method that makes each.
KINDS = ("local", "serverless", "vm", "cluster")
#: Cluster configs every cloud (and the local provider) accepts.
PORTABLE_CLUSTERS: tuple[type[ExecutionConfig], ...] = (DatabricksConfig, SparkConfig, DaskConfig)


class Backend(Generic[C]):
    """Per-cloud storage knowledge, looked up by the provider config's type.

    Subclasses set the class attributes and override the hooks they need; reading is
    generic (fsspec + polars) and asks the backend for ``filesystem`` and
    ``storage_options``; writing and deleting are the backend's own.
    """

    #: The provider config type (the type parameter) and its cloud's name.
    config_type: ClassVar[type[ProviderConfig]] = ProviderConfig
    name: ClassVar[str] = ""
    scheme: ClassVar[str] = ""
    #: The cloud's own config types; ``storage_config`` and ``execution`` follow from them.
    services: ClassVar[Services | None] = None
    storage_config: ClassVar[type[StorageConfig] | None] = None
    #: Accepted execution config types per kind; the first is the default.
    execution: ClassVar[dict[str, tuple[type[ExecutionConfig], ...]]] = {}
    #: Regular expression and rule text for bucket names.
    bucket_pattern: ClassVar[str] = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
    bucket_rule: ClassVar[str] = "3-63 lowercase letters, digits, dots and hyphens"
    #: Whether asking this store whether an object exists is instant (no network).
    instant: ClassVar[bool] = False
    #: Whether :meth:`stamps` needs the fsspec filesystem (``None`` is passed otherwise, so a
    #: cache hit never imports fsspec).
    stamps_use_fs: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for base in getattr(cls, "__orig_bases__", ()):
            args = [a for a in get_args(base) if isinstance(a, type) and issubclass(a, ProviderConfig)]
            if args:
                cls.config_type, cls.name = args[0], args[0].cloud
        if cls.services is not None:
            cls.storage_config = cls.services.storage
            cls.execution = cls.services.execution()

    def __init__(self, config: C, *, hint: str = "") -> None:
        self.config = config
        #: What to install for this backend's libraries (``pip install "glacier-pipelines[aws]"``).
        self.hint = hint

    def require(self, module: str, purpose: str) -> Any:
        """Import ``module`` or raise ``MissingDependencyError`` with this cloud's install line."""
        try:
            return importlib.import_module(module)
        except ImportError as exc:
            raise MissingDependencyError(f"{purpose} needs the '{module}' package: {self.hint}") from exc

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

    def to_fs(self, uri: str) -> str:
        """``uri`` as the filesystem names it (without the scheme)."""
        return uri.split("://", 1)[-1]

    def from_fs(self, path: str) -> str:
        """A path as the filesystem lists it, with the URI scheme put back."""
        return path if "://" in path else f"{self.scheme}://{path}"

    def filesystem(self, storage: StorageConfig | None) -> Any:
        """An fsspec filesystem for this cloud (imports the cloud's extra lazily)."""
        raise NotImplementedError

    def hints(self, storage: StorageConfig | None) -> Hints:
        """What a user should check when storage fails (shown in error messages)."""
        return Hints()

    def preflight(self) -> None:
        """Fail fast before an operation (a store whose client retries a dead endpoint for long)."""

    def stamps(self, fs: Any, uri: str) -> list[str]:
        """``path:version`` of each object ``uri`` names (every file of a glob or folder).

        Cache keys use it: writing any of the objects changes its stamp.
        """
        raise NotImplementedError

    # -- writing -----------------------------------------------------------------------
    def write(self, place: Place, frame: Frame, uri: str, fmt: str) -> None:
        """Atomically replace the object at ``uri`` by ``frame``."""
        raise NotImplementedError

    def write_partitioned(self, place: Place, frame: Frame, uri: str, fmt: str, columns: list[str]) -> None:
        """Replace the folder ``uri`` by ``frame`` as a Hive-partitioned dataset."""
        raise NotImplementedError

    def delete(self, fs: Any, uri: str, files: list[str], *, folder: bool) -> None:
        """Delete ``files`` (everything under ``uri`` when it is a ``folder``)."""
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


class ObjectStore(Backend[C]):
    """An object store: writes stream into an upload that publishes the object only when complete."""

    def write(self, place: Place, frame: Frame, uri: str, fmt: str) -> None:
        """Stream ``frame`` into one object at ``uri``; published only when complete.

        An error in the user's plan passes through as it is; a storage error is
        reported naming the URI and what to check.
        """
        from glacier.storage.upload import write_object

        with place.errors("write", uri):
            upload = self.open_upload(place.fs, uri, place.storage)
        try:
            write_object(frame, fmt, upload)
        except BaseException as exc:
            if exc is not upload.error:
                raise
            with place.errors("write", uri):
                raise
        finally:
            place.fs.invalidate_cache()

    def write_partitioned(self, place: Place, frame: Frame, uri: str, fmt: str, columns: list[str]) -> None:
        """Each partition is uploaded over its old object, then objects no longer part of it go."""
        parts = io.partitions(frame, fmt, columns)
        for rel, part in parts:
            self.write(place, part, f"{uri}/{rel}", fmt)
        fs = place.fs
        with place.errors("write"):
            keep = {self.to_fs(f"{uri}/{rel}") for rel, _ in parts}
            stale = [p for p in fs.find(uri) if self.to_fs(p) not in keep]
            if stale:
                fs.rm(stale)
                fs.invalidate_cache()

    def stamps(self, fs: Any, uri: str) -> list[str]:
        """The ETag (or another content hash, else size and time) of each object."""
        with contextlib.suppress(Exception):
            fs.invalidate_cache()
        try:
            if any(ch in uri for ch in "*?["):
                infos = fs.glob(uri, detail=True)
            elif fs.isdir(uri):
                infos = fs.find(uri, detail=True)
            else:
                infos = {uri: fs.info(uri)}
        except FileNotFoundError:
            infos = {}
        return [f"{path}:{version_of(infos[path])}" for path in sorted(infos)]

    def delete(self, fs: Any, uri: str, files: list[str], *, folder: bool) -> None:
        if files:
            fs.rm(files)
            fs.invalidate_cache()


def _names(types: tuple[type, ...]) -> str:
    return ", ".join(t.__name__ for t in types)
