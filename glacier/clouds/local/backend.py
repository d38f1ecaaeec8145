"""The local disk: every bucket is a folder under ``LocalConfig.base_path``."""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path
from typing import Any, ClassVar

from glacier.clouds.backend import PORTABLE_CLUSTERS, Backend, Frame, Place
from glacier.config.execution import (
    AzureFunctionConfig,
    AzureVMConfig,
    CloudFunctionConfig,
    ComputeEngineConfig,
    DataprocConfig,
    EC2Config,
    EMRConfig,
    ExecutionConfig,
    LambdaConfig,
)
from glacier.config.providers import LocalConfig
from glacier.config.storage import StorageConfig
from glacier.errors import ConfigError
from glacier.storage import io
from glacier.storage.errors import Hints
from glacier.storage.listing import STAGING, is_data

__all__ = ["LocalBackend"]


class LocalBackend(Backend[LocalConfig]):
    """Local disk; accepts every cloud's execution config so pipelines written for
    a cloud run unchanged on a laptop (``mode="local"``)."""

    scheme = "file"
    instant = True
    stamps_use_fs = False
    bucket_pattern = r"[A-Za-z0-9_][A-Za-z0-9._-]{0,254}"
    bucket_rule = "letters, digits, dots, hyphens and underscores (no slashes)"
    execution: ClassVar[dict[str, tuple[type[ExecutionConfig], ...]]] = {
        "serverless": (LambdaConfig, CloudFunctionConfig, AzureFunctionConfig),
        "vm": (EC2Config, ComputeEngineConfig, AzureVMConfig),
        "cluster": (*PORTABLE_CLUSTERS[2:], *PORTABLE_CLUSTERS[:2], EMRConfig, DataprocConfig),
    }

    @property
    def root(self) -> Path:
        return Path(self.config.base_path).expanduser().resolve()

    def check_storage_config(self, config: StorageConfig | None) -> StorageConfig | None:
        # Any cloud's storage config is accepted and kept (for Terraform re-targeting).
        if config is not None and not isinstance(config, StorageConfig):
            raise ConfigError(
                f"provider.bucket(config=...) takes S3Config, GCSConfig or AzureBlobConfig, "
                f"not {type(config).__name__}"
            )
        return config

    def check_execution_config(self, kind: str, config: ExecutionConfig | None) -> ExecutionConfig | None:
        if config is None and kind in ("serverless", "vm"):
            return None  # runs on this machine with no limits to emulate
        return super().check_execution_config(kind, config)

    def uri(self, bucket: str, path: str) -> str:
        target = self.root / bucket
        return str(target / path) if path else str(target)

    def to_fs(self, uri: str) -> str:
        return uri

    def from_fs(self, path: str) -> str:
        return path

    def filesystem(self, storage: StorageConfig | None) -> Any:
        from fsspec.implementations.local import LocalFileSystem

        return LocalFileSystem()

    def storage_options(self, storage: StorageConfig | None) -> dict[str, Any] | None:
        return {}

    def hints(self, storage: StorageConfig | None) -> Hints:
        return Hints(
            credentials="the file permissions",
            endpoint=f"LocalConfig(base_path=...) ({self.root})",
        )

    def stamps(self, fs: Any, uri: str) -> list[str]:
        """Size, modification time (in nanoseconds) and inode of each data file."""
        out = []
        for path in _files(uri):
            try:
                st = os.stat(path)
            except FileNotFoundError:
                continue
            out.append(f"{path}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}")
        return out

    def staging(self, uri: str) -> Path:
        """Where a write to ``uri`` stages: ``<base_path>/.glacier/staging``, on the target's device.

        A bucket folder mounted from another device stages in its own ``.glacier/staging``
        (``os.replace`` cannot cross devices); listings never show either.
        """
        parent = Path(uri).parent
        parent.mkdir(parents=True, exist_ok=True)
        root = self.root / STAGING
        root.mkdir(parents=True, exist_ok=True)
        if os.stat(root).st_dev != os.stat(parent).st_dev:
            bucket = Path(uri).relative_to(self.root).parts[0]
            root = self.root / bucket / STAGING
        return root

    def write(self, place: Place, frame: Frame, uri: str, fmt: str) -> None:
        """A temporary file in the staging folder renamed over the target (``os.replace`` is atomic)."""
        with place.errors("write"):
            io.write_local(frame, uri, fmt, self.staging(uri))

    def write_partitioned(self, place: Place, frame: Frame, uri: str, fmt: str, columns: list[str]) -> None:
        with place.errors("write"):
            io.write_partitioned_local(frame, uri, fmt, columns, self.staging(uri))

    def delete(self, fs: Any, uri: str, files: list[str], *, folder: bool) -> None:
        if folder:
            if Path(uri).is_dir():
                shutil.rmtree(uri)
        elif files:
            fs.rm(files)


def _files(uri: str) -> list[str]:
    if any(ch in uri for ch in "*?["):
        return sorted(glob.glob(uri, recursive=True))
    if os.path.isdir(uri):
        return sorted(
            os.path.join(root, name)
            for root, _dirs, names in os.walk(uri)
            for name in names
            if is_data(os.path.relpath(os.path.join(root, name), uri).replace(os.sep, "/"))
        )
    return [uri]
