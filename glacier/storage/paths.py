"""Paths inside a bucket: relative, normalised, never escaping the bucket."""

from __future__ import annotations

import re

from glacier.errors import BucketPathError
from glacier.storage.listing import GLACIER_DIR

__all__ = ["check_bucket_path"]


def check_bucket_path(path: str) -> str:
    """Normalise a path inside a bucket; reject absolute paths and ``..`` escapes."""
    if not isinstance(path, str):
        raise BucketPathError(f"bucket path must be a string, not {type(path).__name__}")
    if "\x00" in path:
        raise BucketPathError(
            f"bucket path {path!r} contains a NUL character, which no file system or object store "
            "accepts: remove it (for example 'raw/data.parquet')"
        )
    raw = path.replace("\\", "/")
    if raw.startswith("/") or re.match(r"^[A-Za-z]:", raw) or "://" in raw:
        raise BucketPathError(
            f"bucket path {path!r} is absolute: give a path relative to the bucket, "
            "for example 'raw/data.parquet'"
        )
    parts: list[str] = []
    for part in raw.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise BucketPathError(
                    f"bucket path {path!r} escapes its bucket: remove the '..' segments, "
                    "for example 'raw/data.parquet'"
                )
            parts.pop()
            continue
        if part == GLACIER_DIR:
            raise BucketPathError(
                f"bucket path {path!r} uses {GLACIER_DIR!r}, which is reserved for Glacier's staging: "
                "rename that folder (for example 'raw/data.parquet')"
            )
        parts.append(part)
    if parts and re.match(r"^[A-Za-z]:", parts[0]):
        # "./C:" normalises to "C:", which reads as a drive: refuse it, so normalising is idempotent
        raise BucketPathError(
            f"bucket path {path!r} starts with a drive-like segment {parts[0]!r}: "
            "give a path relative to the bucket, for example 'raw/data.parquet'"
        )
    return "/".join(parts)
