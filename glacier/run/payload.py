"""The payload of an emulated function call, pickled without credentials.

- ``SecretStr`` values are replaced by references; the values travel over the function
  process's stdin pipe (never a file) and are put back in the configs there;
- a ``LazyFrame`` travels as its data (a plan can hold ``storage_options`` with keys);
- providers, buckets and executors are rebuilt in the function process from their configs
  (no cached clients, filesystems or registries come along);
- a payload that would still hold a known credential (a key copied into a plain dict, say)
  is refused with an error naming the task.
"""

from __future__ import annotations

import io
import os
import pickle
from collections.abc import Sequence
from typing import Any

import polars as pl
from pydantic import BaseModel, SecretStr

from glacier.errors import DefinitionError, require

__all__ = ["dumps", "loads", "known_secrets"]

_TAG = "glacier-secret"
#: Environment variables whose values are credentials (checked like config secrets).
_SECRET_ENV = (
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AZURE_STORAGE_KEY",
    "AZURE_STORAGE_CONNECTION_STRING",
    "DATABRICKS_TOKEN",
)
_MIN_CHECKED = 8  # shorter values ("testing") match ordinary text too often to be checked


def _lazy(frame: pl.DataFrame) -> pl.LazyFrame:
    return frame.lazy()


def _provider(config: Any) -> Any:
    from glacier.provider import Provider

    return Provider(config=config)


def _bucket(provider: Any, bucket: str, path: str, config: Any) -> Any:
    from glacier.resources.bucket import Bucket

    return Bucket(provider, bucket, path, config=config)


def _executor(provider: Any, kind: str, config: Any, name: str) -> Any:
    from glacier.resources.executor import Executor

    return Executor(provider, kind, config, name)


def _pickler_class() -> type:
    cloudpickle = require("cloudpickle", "dask", "emulate=True (serverless limits)")
    from glacier.provider import Provider
    from glacier.resources.bucket import Bucket
    from glacier.resources.executor import Executor

    class Pickler(cloudpickle.CloudPickler):  # type: ignore[misc, name-defined]
        def __init__(self, file: io.BytesIO, secrets: list[str]) -> None:
            super().__init__(file, protocol=5)
            self.secrets = secrets

        def persistent_id(self, obj: Any) -> Any:
            if type(obj) is SecretStr:
                value = obj.get_secret_value()
                if value not in self.secrets:
                    self.secrets.append(value)
                return (_TAG, self.secrets.index(value))
            return None

        def reducer_override(self, obj: Any) -> Any:
            if isinstance(obj, pl.LazyFrame):
                return _lazy, (obj.collect(),)
            if isinstance(obj, Provider):
                return _provider, (obj.config,)
            if isinstance(obj, Bucket):
                return _bucket, (obj.provider, obj.bucket, obj.path, obj.config)
            if isinstance(obj, Executor):
                return _executor, (obj.provider, obj.kind, obj.config, obj.name)
            return super().reducer_override(obj)

    return Pickler


def known_secrets(*configs: Any) -> list[str]:
    """The credentials a payload must not contain: ``SecretStr`` fields of ``configs`` and
    the standard credential variables of this process."""
    found = [os.environ[name] for name in _SECRET_ENV if os.environ.get(name)]
    for config in configs:
        if isinstance(config, BaseModel):
            for name in type(config).model_fields:
                value = getattr(config, name, None)
                if isinstance(value, SecretStr):
                    found.append(value.get_secret_value())
    return found


def dumps(value: Any, secrets: list[str], *, label: str, check: Sequence[str] = ()) -> bytes:
    """Pickle ``value`` with every ``SecretStr`` as a reference into ``secrets`` (filled in).

    Raises
    ------
    DefinitionError
        When the bytes would still hold one of ``secrets`` or ``check`` (``label`` names the call).
    """
    buffer = io.BytesIO()
    _pickler_class()(buffer, secrets).dump(value)
    data = buffer.getvalue()
    for secret in (*secrets, *check):
        if len(secret) >= _MIN_CHECKED and secret.encode() in data:
            raise DefinitionError(
                f"{label}: its input holds a credential outside a config (a key copied into a plain "
                "string or dict, or a client object), which would be written into the emulated "
                "function's payload; pass the bucket or the provider instead and let Glacier resolve "
                "the credentials"
            )
    return data


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, secrets: list[str]) -> None:
        super().__init__(file)
        self.secrets = secrets

    def persistent_load(self, pid: Any) -> Any:
        if isinstance(pid, tuple) and len(pid) == 2 and pid[0] == _TAG:
            return SecretStr(self.secrets[pid[1]])
        raise pickle.UnpicklingError(f"unknown reference {pid!r}")


def loads(data: bytes, secrets: list[str]) -> Any:
    """The value :func:`dumps` pickled, with its secrets put back from ``secrets``."""
    return _Unpickler(io.BytesIO(data), secrets).load()
