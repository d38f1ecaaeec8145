"""What a listing shows: data files only, each with the version it has now.

Glacier stages nothing where a reader looks (local writes stage in
``<base_path>/.glacier/staging``; object stores publish an object only when its upload
completes), so the only names a listing hides are Glacier's own folder and the markers
other tools leave beside their data (``_SUCCESS``, ``.part-0.parquet.crc``). A file
Glacier itself wrote under a name starting with ``.`` or ``_`` is data.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

from glacier.storage.formats import FORMATS

__all__ = ["GLACIER_DIR", "STAGING", "is_data", "version_of"]

#: Glacier's own folder (reserved in bucket paths; never listed).
GLACIER_DIR = ".glacier"
#: Where local writes stage, below the base path (or, on another device, the bucket's folder).
STAGING = f"{GLACIER_DIR}/staging"
#: Staging folders of Glacier versions that staged beside the target (``.x.parquet.glacier-tmp-<hex>``).
_LEGACY = re.compile(r"^\..+\.glacier-tmp-[0-9a-f]{12}$")


def is_data(key: str) -> bool:
    """Whether ``key`` (a path relative to a bucket or a folder) is a data file to list and read."""
    if not key or key.endswith("/"):
        return False
    parts = key.split("/")
    if any(p == GLACIER_DIR or _LEGACY.match(p) for p in parts[:-1]):
        return False
    name = parts[-1]
    if name.startswith((".", "_")):
        return PurePosixPath(name).suffix.lower() in FORMATS  # .a.parquet yes; _SUCCESS, .x.crc no
    return bool(name)


def version_of(info: dict[str, Any]) -> str:
    """What an object is now, from its listing entry: its content hash, else size, time and inode."""
    for key in ("ETag", "etag", "md5Hash", "content_md5", "crc32c", "generation"):
        if info.get(key):
            return f"{key}={info[key]}"
    mtime = info.get("LastModified") or info.get("last_modified") or info.get("updated") or info.get("mtime")
    return f"size={info.get('size')}:mtime={mtime}:ino={info.get('ino', '')}"
