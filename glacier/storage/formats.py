"""File formats, chosen by a path's suffix."""

from __future__ import annotations

from pathlib import PurePosixPath

from glacier.errors import StorageError

__all__ = ["FORMATS", "SUFFIX", "format_of", "has_suffix", "is_glob"]

#: Suffix -> format name.
FORMATS: dict[str, str] = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".ipc": "ipc",
    ".arrow": "ipc",
    ".feather": "ipc",
}
#: Format name -> the suffix Glacier writes.
SUFFIX: dict[str, str] = {"parquet": ".parquet", "csv": ".csv", "ndjson": ".ndjson", "ipc": ".arrow"}


def has_suffix(path: str) -> bool:
    """Whether the last segment of ``path`` has a suffix (``data`` is a folder, ``a.csv`` is not)."""
    return bool(PurePosixPath(path.rstrip("/")).suffix) and not path.endswith("/")


def is_glob(path: str) -> bool:
    """Whether ``path`` holds a glob character."""
    return any(ch in path for ch in "*?[")


def format_of(path: str, *, default: str | None = None) -> str:
    """Return the format of ``path`` from its suffix (``events/*.parquet`` works too)."""
    suffix = PurePosixPath(path.rstrip("/")).suffix.lower()
    if suffix in FORMATS:
        return FORMATS[suffix]
    if default is not None and not suffix:
        return default
    known = ", ".join(sorted(FORMATS))
    raise StorageError(
        f"cannot tell the format of {path!r} from its suffix {suffix or '(none)'!r}: use one of {known}"
    )
