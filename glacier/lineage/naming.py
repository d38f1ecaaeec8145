"""Dataset names by the OpenLineage naming spec (https://openlineage.io/docs/spec/naming).

=====================  ==================================================  ==============
store                  namespace                                           name
=====================  ==================================================  ==============
local file system      ``file``                                            absolute path
S3                     ``s3://{bucket}``                                   object key
GCS                    ``gs://{bucket}``                                   object key
Azure Blob Storage     ``wasbs://{container}@{account}.dfs.core.windows.net``  object key
Azure Data Lake Gen2   ``abfss://{container}@{account}.dfs.core.windows.net``  path
=====================  ==================================================  ==============

A folder (a partitioned dataset) is one dataset named by the folder; a glob keeps its
pattern. A task's in-memory output is a dataset too, so that consumers can draw the
pipeline: namespace ``glacier://{job namespace}``, name ``{pipeline}.{task}``.
"""

from __future__ import annotations

import os
import posixpath
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from glacier.resources.bucket import Bucket

__all__ = ["DatasetId", "from_uri", "from_bucket", "task_output", "common_folder"]

_AZURE_HOST = "dfs.core.windows.net"


class DatasetId(NamedTuple):
    """An OpenLineage dataset identity."""

    namespace: str
    name: str


def from_uri(uri: str, *, azure_account: str | None = None) -> DatasetId | None:
    """The dataset a path or URI names; ``None`` when the spec has no name for it
    (or, for Azure, when the storage account is not known)."""
    if "://" not in uri:
        return DatasetId("file", os.path.abspath(uri))
    scheme, rest = uri.split("://", 1)
    scheme = scheme.lower()
    if scheme == "file":
        return DatasetId("file", os.path.abspath("/" + rest.lstrip("/")))
    host, _, key = rest.partition("/")
    if scheme in ("s3", "s3a", "s3n"):
        return DatasetId(f"s3://{host}", key)
    if scheme in ("gs", "gcs"):
        return DatasetId(f"gs://{host}", key)
    if scheme in ("az", "abfs", "abfss", "adl", "wasb", "wasbs"):
        container, _, account_host = host.partition("@")
        account = account_host.split(".", 1)[0] if account_host else azure_account
        if not account:
            return None
        kind = "abfss" if scheme in ("abfs", "abfss", "adl") else "wasbs"
        return DatasetId(f"{kind}://{container}@{account}.{_AZURE_HOST}", key)
    if scheme in ("http", "https"):
        return DatasetId(f"{scheme}://{host}", "/" + key)
    return None


def azure_account(bucket: Bucket) -> str | None:
    """The storage account of an Azure bucket (never its key)."""
    try:
        options = bucket.storage_options or {}
        account = options.get("account_name")
        if account:
            return str(account)
        return getattr(bucket.fs, "account_name", None)
    except Exception:
        return None


def from_bucket(bucket: Bucket) -> DatasetId | None:
    """The dataset a Glacier bucket (file, glob or folder) names."""
    uri = bucket.get_uri()
    account = azure_account(bucket) if uri.startswith(("az://", "abfs://", "abfss://")) else None
    found = from_uri(uri, azure_account=account)
    if found is not None and found.name.endswith("/"):
        found = DatasetId(found.namespace, found.name.rstrip("/"))
    return found


def task_output(job_namespace: str, pipeline: str, node: str) -> DatasetId:
    """The in-memory output of one task of a pipeline."""
    return DatasetId(f"glacier://{job_namespace}", f"{pipeline}.{node}")


def common_folder(paths: list[str]) -> str:
    """The folder every path is in (``paths`` of one scan: the files of one dataset)."""
    if len(paths) == 1:
        return paths[0]
    scheme = ""
    if "://" in paths[0]:
        scheme = paths[0].split("://", 1)[0] + "://"
    bare = [p[len(scheme) :] if scheme and p.startswith(scheme) else p for p in paths]
    folder = posixpath.commonpath(bare) if all(bare) else ""
    return scheme + folder if folder else paths[0]


def describe(value: Any) -> str:
    """``namespace/name`` for messages."""
    return f"{value.namespace}/{value.name}" if isinstance(value, DatasetId) else str(value)
