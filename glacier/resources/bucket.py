"""Storage resources: where data lives.

One ``Bucket`` API on every backend (local disk, S3, GCS, Azure Blob). The
backend gives an fsspec filesystem, polars storage options (where polars'
native object-store reader works: local, S3, Azure) and the hints for error
messages; the I/O itself lives in ``glacier.storage``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
from polars.exceptions import PanicException

from glacier.clouds.backend import Place
from glacier.display.protocol import Displayable
from glacier.errors import StorageError
from glacier.storage import deferred, io, observe
from glacier.storage.errors import Hints, storage_errors
from glacier.storage.formats import FORMATS, format_of, has_suffix, is_glob
from glacier.storage.listing import is_data, version_of
from glacier.storage.paths import check_bucket_path

if TYPE_CHECKING:
    from glacier.clouds.backend import Backend
    from glacier.config import StorageConfig
    from glacier.provider import Provider

__all__ = ["Bucket", "READ_ATTEMPTS"]

#: How many times a folder read starts again when its files change while they are read.
READ_ATTEMPTS = 50


class Bucket(Displayable):
    """A file, glob or folder (dataset) in a bucket, created by ``provider.bucket(...)``.

    The format comes from the path's suffix (parquet, csv, ndjson/jsonl,
    ipc/arrow/feather); a path without a suffix is a folder of files, possibly
    Hive-partitioned (``year=2024/...``).

    Examples
    --------
    >>> bucket = provider.bucket(bucket="data", path="input.parquet")  # doctest: +SKIP
    >>> bucket.write(df)  # doctest: +SKIP
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
        """The file format, from the path's suffix (``parquet`` for a folder)."""
        return format_of(self.path, default="parquet")

    @property
    def is_folder(self) -> bool:
        """Whether the path is a folder of files (no suffix, no glob)."""
        return not is_glob(self.path) and not has_suffix(self.path)

    def get_uri(self) -> str:
        """The object's URI: ``s3://…``, ``gs://…``, ``az://…`` or a local path."""
        return self._backend.uri(self.bucket, self.path)

    @property
    def backend(self) -> Backend[Any]:
        """What Glacier knows about the storage this bucket is on (from the provider's config)."""
        return self._backend

    @cached_property
    def fs(self) -> Any:
        """The fsspec filesystem holding this bucket."""
        return self._backend.filesystem(self.config)

    @property
    def storage_options(self) -> dict[str, Any] | None:
        """What polars' native readers need (``None`` where Glacier reads through fsspec).

        It holds credentials when the config sets them: do not print it.
        """
        return self._backend.storage_options(self.config)

    @cached_property
    def _hints(self) -> Hints:
        return self._backend.hints(self.config)

    @contextlib.contextmanager
    def _errors(self, action: str, uri: str | None = None) -> Iterator[None]:
        with storage_errors(uri or self.get_uri(), action, self._hints, bucket=self.bucket):
            self._backend.preflight()  # a backend whose client would retry a dead endpoint for long
            yield

    @property
    def _place(self) -> Place:
        return Place(self.fs, self.config, self._errors)

    def __truediv__(self, sub: str) -> Bucket:
        """``bucket / "part.parquet"``: a path below this one in the same bucket."""
        joined = f"{self.path}/{sub}" if self.path else sub
        return Bucket(self.provider, self.bucket, joined, config=self.config)

    # -- listing ---------------------------------------------------------------------
    def _root(self) -> str:
        """The bucket's own location, as the filesystem names it."""
        return self._backend.uri(self.bucket, "")

    def _listing(self) -> dict[str, str]:
        """Every data file this bucket path names -> its version now (raises when unreachable)."""
        fs, uri = self.fs, self.get_uri()
        fs.invalidate_cache()
        try:
            if is_glob(self.path):
                found = fs.glob(uri, detail=True)
            elif self.is_folder:
                found = fs.find(uri, detail=True)
            else:
                info = fs.info(uri)
                return {uri: version_of(info)} if info.get("type") != "directory" else {}
        except FileNotFoundError:
            return {}
        return {
            self._backend.from_fs(p): version_of(found[p]) for p in sorted(found) if is_data(self._key(p))
        }

    def _files(self) -> list[str]:
        """Every data file this bucket path names, as filesystem paths (raises when unreachable)."""
        return sorted(self._listing())

    def _key(self, path: str) -> str:
        """A filesystem path as a key relative to the bucket root."""
        root = self._root().split("://", 1)[-1].rstrip("/")
        bare = path.split("://", 1)[-1]
        return bare[len(root) + 1 :] if bare.startswith(root + "/") else bare

    def ls(self, prefix: str = "") -> list[str]:
        """Keys (relative to the bucket) of the objects under this path and ``prefix``.

        Examples
        --------
        >>> provider.bucket(bucket="data", path="events").ls()  # doctest: +SKIP
        ['events/year=2024/part-0.parquet', 'events/year=2025/part-0.parquet']
        """
        with self._errors("list"):
            if prefix or self.is_folder:
                base = "/".join(p for p in (self.path, prefix) if p)
                if self.path and not prefix:
                    base += "/"  # the folder's own keys, not those of a sibling sharing its name's start
                folder = base.rsplit("/", 1)[0] if "/" in base else ""
                start = self._backend.uri(self.bucket, folder)
                self.fs.invalidate_cache()
                try:
                    found = self.fs.find(start)
                except FileNotFoundError:
                    found = []
                keys = [self._key(p) for p in found]
                return sorted(k for k in keys if k.startswith(base) and is_data(k))
            return sorted(self._key(p) for p in self._files())

    def exists(self) -> bool:
        """Whether the object (for a glob or a folder: any file in it) exists."""
        self._settle()
        with self._errors("check"):
            return bool(self._files())

    def _settle(self) -> None:
        """Publish the running pipeline's pending writes to this object before it is read."""
        deferring = deferred.active()
        if deferring is not None:
            deferring[0].flush({self.get_uri()})

    # -- reading ---------------------------------------------------------------------
    def scan(self, **kwargs: Any) -> pl.LazyFrame:
        """A ``pl.LazyFrame`` over the object, glob or folder; ``kwargs`` go to ``pl.scan_*``."""
        self._settle()
        uri = self.get_uri()
        if not self.is_folder:
            fmt = format_of(self.path)  # an unknown suffix fails before any I/O
        opts = self.storage_options
        if opts is not None and not self.is_folder and not is_glob(self.path) and fmt in io.HIVE_NATIVE:
            # One object polars reads natively: its footer read is the existence check too
            # (one round trip instead of a HEAD and then the footer).
            lazy = io.scan(uri, fmt, storage_options=opts or None, hive=None, **kwargs)
            with self._errors("read"):
                lazy.collect_schema()
            return lazy
        with self._errors("read"):
            listing = self._listing()
        return self._scan(listing, **kwargs)

    def _scan(self, listing: dict[str, str], **kwargs: Any) -> pl.LazyFrame:
        """A ``LazyFrame`` over the files of ``listing`` (a folder's or a glob's)."""
        uri, opts, files = self.get_uri(), self.storage_options, sorted(listing)
        fmt = format_of(self.path, default="parquet")
        if not files:
            raise StorageError(f"no object at {uri}: write it first or check the bucket and path")
        if self.is_folder:
            fmt = _folder_format(files, uri)
        hive = (
            any("=" in self._key(f).rsplit("/", 1)[0] for f in files)
            if len(files) > 1 or self.is_folder
            else False
        )
        if opts is not None and (fmt in io.HIVE_NATIVE or not hive):
            source: Any = files[0] if len(files) == 1 and not self.is_folder else files
            if self.is_folder and hive:
                source = _glob_for(uri, files)
            lazy = io.scan(source, fmt, storage_options=opts or None, hive=hive or None, **kwargs)
            if fmt in io.HIVE_NATIVE:
                with self._errors("read"):
                    lazy.collect_schema()  # a footer read: a corrupt file fails here, naming the URI
            return lazy
        from glacier.storage.fsspec_scan import scan_files

        base = uri.split("://", 1)[-1] if self.is_folder else _glob_base(uri)
        paths = [self._backend.to_fs(f) for f in files]
        return scan_files(self.fs, paths, fmt, base=base, hive=hive, **kwargs)

    def read(self, **kwargs: Any) -> pl.DataFrame:
        """The whole object (or dataset) as a ``pl.DataFrame``.

        A folder or glob is read as one consistent version: when its files changed while
        they were read (a writer replaced one, or swapped a partitioned dataset), the read
        is done again, so it returns the old dataset or the new one, never a mix.
        """
        if not self.is_folder and not is_glob(self.path):
            lazy = self.scan(**kwargs)
            with self._errors("read"):
                return lazy.collect()
        for _ in range(READ_ATTEMPTS):
            with self._errors("read"):
                before = self._listing()
            try:
                lazy = self._scan(before, **kwargs)
                with self._errors("read"):
                    frame = lazy.collect()
            except (StorageError, PanicException):  # a file went or changed under polars
                with self._errors("read"):
                    if self._listing() == before:
                        raise
                continue
            with self._errors("read"):
                if self._listing() == before:
                    return frame
        raise StorageError(
            f"cannot read {self.get_uri()}: its files kept changing while they were read "
            f"({READ_ATTEMPTS} attempts); read it again once the writer is done"
        )

    # -- writing ---------------------------------------------------------------------
    def write(
        self,
        frame: pl.DataFrame | pl.LazyFrame,
        *,
        partition_by: str | list[str] | None = None,
        format: str | None = None,
    ) -> Bucket:
        """Atomically write ``frame`` here; with ``partition_by``, as a Hive-partitioned folder.

        The object is published only once the frame is written completely, so a
        failing plan or upload leaves the previous object intact and no partial one.
        ``format`` (``"parquet"``, ``"csv"``, ``"ndjson"``, ``"ipc"``) picks the file
        format of a partitioned folder, which has no suffix to tell it (parquet by default).

        Examples
        --------
        >>> provider.bucket(bucket="data", path="sales").write(df, partition_by="year", format="csv")  # doctest: +SKIP
        """
        if not isinstance(frame, pl.DataFrame | pl.LazyFrame):
            raise StorageError(
                f"{self.name}.write() takes a polars DataFrame or LazyFrame, not {type(frame).__name__}"
            )
        fmt = self._write_format(format)
        if observe.WATCHERS:  # lineage notes what is written where
            observe.written(self, frame)
        if partition_by is not None:
            return self._write_partitioned(
                frame, [partition_by] if isinstance(partition_by, str) else list(partition_by), fmt
            )
        if is_glob(self.path) or self.is_folder:
            raise StorageError(
                f"cannot write a single frame to {self.get_uri()}: it is a "
                f"{'glob' if is_glob(self.path) else 'folder'}; give a file path such as "
                f"'{self.path or 'data'}/part.parquet' or write(..., partition_by=[...])"
            )
        uri = self.get_uri()
        deferring = deferred.active() if isinstance(frame, pl.LazyFrame) else None
        if deferring is not None:  # inside a run: joins the run's collection
            batch, node = deferring
            batch.defer(uri, node, lambda: self._backend.write(self._place, frame, uri, fmt))
            return self
        self._backend.write(self._place, frame, uri, fmt)
        return self

    def _write_format(self, format: str | None) -> str:
        """The format to write: ``format`` (checked against the path's suffix) or the suffix's."""
        if format is None:
            return format_of(self.path, default="parquet")
        chosen = FORMATS.get(f".{format.lower().lstrip('.')}")
        if chosen is None:
            raise StorageError(
                f"{self.name}.write(format={format!r}): unknown format; use one of "
                f"{', '.join(sorted(set(FORMATS.values())))}"
            )
        if has_suffix(self.path) and format_of(self.path, default="parquet") != chosen:
            raise StorageError(
                f"{self.name}.write(format={format!r}) disagrees with the path's suffix "
                f"({format_of(self.path)}): drop format= or rename the path"
            )
        return chosen

    def _write_partitioned(self, frame: pl.DataFrame | pl.LazyFrame, columns: list[str], fmt: str) -> Bucket:
        if not self.is_folder:
            raise StorageError(
                f"a partitioned write needs a folder path, not {self.path!r}: "
                f"use provider.bucket(bucket={self.bucket!r}, path='{self.path.rsplit('.', 1)[0]}')"
            )
        self._backend.write_partitioned(self._place, frame, self.get_uri(), fmt, columns)
        return self

    def delete(self) -> int:
        """Delete the object (a glob's matches, a folder's files); return how many. Missing is fine."""
        with self._errors("delete"):
            files = self._files()
            self._backend.delete(self.fs, self.get_uri(), files, folder=self.is_folder)
            return len(files)

    # -- display ---------------------------------------------------------------------
    def _bundle_(self) -> dict[str, Any]:
        from glacier.display.resources import bucket_bundle

        return bucket_bundle(self)

    def __repr__(self) -> str:
        cfg = f", config={self.config!r}" if self.config is not None else ""
        return f"Bucket({self.get_uri()!r}{cfg})"


def _folder_format(files: list[str], uri: str) -> str:
    suffixes = {Path(f).suffix.lower() for f in files}
    formats = {FORMATS[s] for s in suffixes if s in FORMATS}
    if len(formats) != 1 or len(suffixes) != 1:
        shown = ", ".join(sorted(s or "(none)" for s in suffixes))
        raise StorageError(
            f"cannot read the folder {uri}: its files must share one known format, found {shown}; "
            "name a glob such as 'folder/*.parquet'"
        )
    return formats.pop()


def _glob_for(uri: str, files: list[str]) -> str:
    suffix = Path(files[0]).suffix
    return f"{uri.rstrip('/')}/**/*{suffix}"


def _glob_base(uri: str) -> str:
    bare = uri.split("://", 1)[-1]
    cut = min((bare.find(ch) for ch in "*?[" if ch in bare), default=len(bare))
    return bare[:cut].rsplit("/", 1)[0]
