"""Storage resources: where data lives."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

import polars as pl

from glacier.errors import StorageError
from glacier.storage import io
from glacier.storage.formats import format_of
from glacier.storage.paths import check_bucket_path

if TYPE_CHECKING:
    from glacier.config import StorageConfig
    from glacier.provider import Provider

__all__ = ["Bucket"]


class Bucket:
    """A file or dataset in a bucket, created by ``provider.bucket(...)``.

    Examples
    --------
    >>> bucket = provider.bucket(bucket="data", path="input.parquet")  # doctest: +SKIP
    >>> bucket.scan().head(5).collect()  # doctest: +SKIP
    """

    def __init__(
        self, provider: Provider, bucket: str, path: str = "", *, config: StorageConfig | None = None
    ) -> None:
        backend = provider._backend
        backend.check_bucket_name(bucket)
        self.provider = provider
        self.bucket = bucket
        self.path = check_bucket_path(path)
        self.config = backend.check_storage_config(config)
        self._backend = backend

    # -- identity --------------------------------------------------------------------
    @property
    def name(self) -> str:
        """``bucket/path``: a short, readable name."""
        return f"{self.bucket}/{self.path}" if self.path else self.bucket

    @property
    def format(self) -> str:
        """The file format, from the path's suffix."""
        return format_of(self.path)

    def get_uri(self) -> str:
        """The object's URI: ``s3://…``, ``gs://…``, ``az://…`` or a local path."""
        return self._backend.uri(self.bucket, self.path)

    @property
    def is_local(self) -> bool:
        return self._backend.name == "local"

    @cached_property
    def fs(self) -> Any:
        """The fsspec filesystem holding this bucket."""
        return self._backend.filesystem(self.config)

    @property
    def storage_options(self) -> dict[str, Any] | None:
        """What polars' native readers need (``None`` where Glacier reads through fsspec)."""
        return self._backend.storage_options(self.config)

    def __truediv__(self, sub: str) -> Bucket:
        """``bucket / "part.parquet"``: a path below this one in the same bucket."""
        joined = f"{self.path}/{sub}" if self.path else sub
        return Bucket(self.provider, self.bucket, joined, config=self.config)

    # -- I/O -------------------------------------------------------------------------
    def scan(self, **kwargs: Any) -> pl.LazyFrame:
        """A ``pl.LazyFrame`` over the object (or glob, or folder of files)."""
        fmt = self.format if self.path else format_of(self.path, default="parquet")
        uri = self.get_uri()
        if self.is_local:
            if not any(ch in self.path for ch in "*?[") and not _local_exists(uri):
                raise StorageError(f"no object at {uri}: write it first or check the bucket and path")
            return io.scan(uri, fmt, **kwargs)
        opts = self.storage_options
        if opts is not None:
            return io.scan(uri, fmt, storage_options=opts, **kwargs)
        # fsspec fallback: read the object's bytes eagerly, keep the plan lazy after.
        return self._read_fsspec(uri, fmt).lazy()

    def read(self, **kwargs: Any) -> pl.DataFrame:
        """The whole object as a ``pl.DataFrame``."""
        return self.scan(**kwargs).collect()

    def write(self, frame: pl.DataFrame | pl.LazyFrame) -> Bucket:
        """Atomically write ``frame`` to this path (no partial object on failure)."""
        if not isinstance(frame, (pl.DataFrame, pl.LazyFrame)):
            raise StorageError(
                f"{self.name}.write() takes a polars DataFrame or LazyFrame, not {type(frame).__name__}"
            )
        fmt = self.format
        if self.is_local:
            io.write_local(frame, self.get_uri(), fmt)
        else:
            io.write_frame(frame, self.fs, self.get_uri(), fmt, **self._backend.write_options(self.config))
        return self

    def exists(self) -> bool:
        """Whether the object (or, for a glob, any match) exists."""
        uri = self.get_uri()
        if self.is_local:
            return _local_exists(uri)
        try:
            return bool(self.fs.glob(uri)) if any(ch in self.path for ch in "*?[") else self.fs.exists(uri)
        except FileNotFoundError:
            return False

    def _read_fsspec(self, uri: str, fmt: str) -> pl.DataFrame:
        fs = self.fs
        paths = fs.glob(uri) if any(ch in uri for ch in "*?[") else [uri]
        if not paths or not fs.exists(paths[0]):
            raise StorageError(f"no object at {uri}: write it first or check the bucket and path")
        frames = []
        for path in paths:
            with fs.open(path, "rb") as fh:
                frames.append(io.read_bytes(fh, fmt))
        return pl.concat(frames, how="vertical_relaxed") if len(frames) > 1 else frames[0]

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from glacier.display import mimebundle

        return mimebundle(self, include, exclude)

    # -- display ---------------------------------------------------------------------
    def __repr__(self) -> str:
        cfg = f", config={self.config!r}" if self.config is not None else ""
        return f"Bucket({self.get_uri()!r}{cfg})"


def _local_exists(uri: str) -> bool:
    import glob
    import os

    if any(ch in uri for ch in "*?["):
        return bool(glob.glob(uri, recursive=True))
    return os.path.exists(uri)
