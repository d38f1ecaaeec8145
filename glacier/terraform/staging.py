"""What deployed tasks hand each other: ``STAGING/RUN/NODE.parquet``, and the outcome records
an orchestrator polls (``STAGING/RUN/NODE.outcome.json``).

The staging URI comes from the orchestrator (``s3://BUCKET/runs``, ``gs://BUCKET/runs``,
``abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/runs``, or a local folder). Object stores are
read and written through Glacier's own storage layer, with the cloud's defaults read from the
task's environment: the same credentials, endpoints and atomic uploads as every bucket.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from glacier.errors import ConfigError

if TYPE_CHECKING:
    from glacier.resources.bucket import Bucket

__all__ = ["read_output", "write_output", "write_outcome", "read_outcome", "staged"]

_CLOUD = {"s3": "aws", "gs": "gcp", "az": "azure", "abfs": "azure", "abfss": "azure"}
_AZURE_HOST = re.compile(r"([a-z0-9-]+)@([a-z0-9]+)\.(?:dfs|blob)\.core\.windows\.net")


def _split(staging: str) -> tuple[str, str, str, str | None]:
    """``(cloud, bucket, prefix, account)`` of an object-store staging URI."""
    scheme, _, rest = staging.partition("://")
    if scheme not in _CLOUD:
        raise ConfigError(
            f"staging URI {staging!r} is not one Glacier deploys: use s3://BUCKET/PREFIX, "
            "gs://BUCKET/PREFIX or abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PREFIX"
        )
    head, _, prefix = rest.partition("/")
    account = None
    m = _AZURE_HOST.fullmatch(head)
    if m:
        head, account = m.group(1), m.group(2)
    return _CLOUD[scheme], head, prefix.strip("/"), account


def _provider(cloud: str, account: str | None) -> Any:
    """The staging cloud's provider: its defaults, read from the task's environment."""
    from glacier.clouds.registry import registry
    from glacier.provider import Provider

    config = next(t for t in registry if t.cloud == cloud)()
    if account and getattr(config, "storage_account", None) != account:
        config = config.model_copy(update={"storage_account": account})
    return Provider(config=config)


def staged(staging: str, run: str, name: str) -> Bucket | Path:
    """Where ``STAGING/RUN/NAME`` lives: a bucket path, or a local file."""
    if "://" not in staging:
        return Path(staging) / run / name
    cloud, bucket, prefix, account = _split(staging)
    path = "/".join(p for p in (prefix, run, name) if p)
    return _provider(cloud, account).bucket(bucket=bucket, path=path)


def read_output(staging: str, run: str, node: str) -> pl.LazyFrame:
    """The frame task ``node`` of run ``run`` returned."""
    where = staged(staging, run, f"{node}.parquet")
    return pl.scan_parquet(where) if isinstance(where, Path) else where.scan()


def write_output(staging: str, run: str, node: str, frame: pl.DataFrame) -> None:
    """Keep the frame task ``node`` returned for the tasks downstream of it."""
    where = staged(staging, run, f"{node}.parquet")
    if isinstance(where, Path):
        where.parent.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(where)
    else:
        where.write(frame)


def write_outcome(staging: str, run: str, node: str, outcome: dict[str, Any]) -> None:
    """Record how task ``node`` ended (``{"status": "succeeded", ...}``) for a poller."""
    data = json.dumps(outcome).encode("utf-8")
    where = staged(staging, run, f"{node}.outcome.json")
    if isinstance(where, Path):
        where.parent.mkdir(parents=True, exist_ok=True)
        tmp = where.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, where)
        return
    fs, path = where.fs, where.backend.to_fs(where.get_uri())
    with where._errors("write"):
        if where.backend.name == "gcp":  # Workflows reads a JSON object as JSON
            fs.pipe_file(path, data, content_type="application/json")
        else:
            fs.pipe_file(path, data)


def read_outcome(staging: str, run: str, node: str) -> dict[str, Any] | None:
    """The outcome task ``node`` recorded, or ``None`` while it has recorded none."""
    where = staged(staging, run, f"{node}.outcome.json")
    if isinstance(where, Path):
        return json.loads(where.read_text(encoding="utf-8")) if where.is_file() else None
    fs, path = where.fs, where.backend.to_fs(where.get_uri())
    with where._errors("read"):
        fs.invalidate_cache()
        if not fs.exists(path):
            return None
        return json.loads(fs.cat_file(path))
