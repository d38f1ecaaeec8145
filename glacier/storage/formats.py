"""File formats, chosen by a path's suffix."""

from __future__ import annotations

from pathlib import PurePosixPath

from glacier.errors import StorageError

__all__ = ["FORMATS", "format_of"]

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
