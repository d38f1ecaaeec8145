"""Real storage servers on loopback for tests: moto's S3, Azurite and a GCS emulator.

Each server runs as a subprocess on a free ``127.0.0.1`` port and is described by a
:class:`Server`: its endpoint, the standard environment variables that point a
client at it, and ``create_bucket``. Reuse it from any test area::

    from tests.servers import start_s3
    with start_s3() as s3:
        s3.create_bucket("data")
        env = {**os.environ, **s3.env}

``start_all()`` starts every server that is available; Azurite needs
``scripts/install.d/10-azurite.sh`` (npm) to have run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "AZURITE_ACCOUNT",
    "AZURITE_KEY",
    "Server",
    "ServerUnavailable",
    "azurite_binary",
    "free_port",
    "start_all",
    "start_azurite",
    "start_gcs",
    "start_s3",
]

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
#: Azurite's well-known development account (public, documented by Microsoft).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
GCS_PROJECT = "glacier-test"


class ServerUnavailable(RuntimeError):
    """A server could not be started (binary missing or it never became ready)."""


@dataclass
class Server:
    """A running storage server.

    Attributes
    ----------
    name : str
        ``"s3"``, ``"gcs"`` or ``"azure"``.
    endpoint : str
        Base URL (for Azurite, including the account path).
    env : dict
        Standard variables that point clients (boto3, polars, gcsfs, adlfs, Glacier) here.
    """

    name: str
    endpoint: str
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    _create: Callable[[str], None] | None = field(default=None, repr=False)

    def create_bucket(self, bucket: str) -> None:
        """Create ``bucket`` (an S3/GCS bucket or an Azure container); existing is fine."""
        assert self._create is not None
        self._create(bucket)

    def stop(self) -> None:
        """Stop the server process (only the one this object started)."""
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _launch(
    name: str, argv: list[str], port: int, timeout: float = 20.0, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    # Output goes to a temporary file, never a pipe: a pipe nobody reads fills up or
    # breaks, and the server then blocks or dies on its next log line.
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        argv,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                log.seek(0)
                err = log.read().decode(errors="replace")[-500:]
                raise ServerUnavailable(f"{name} exited with code {proc.returncode}: {err}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
            time.sleep(0.05)
        proc.kill()
        proc.wait(timeout=5)
        raise ServerUnavailable(f"{name} did not listen on 127.0.0.1:{port} within {timeout:.0f} s")
    finally:
        log.close()  # the child keeps its own descriptor


# -- S3 (moto) ---------------------------------------------------------------------------
def start_s3(*, auth: bool = False, free_actions: int = 0) -> Server:
    """moto's S3 server (``moto_server``); ``auth=True`` checks credentials (IAM) on every
    request after the first ``free_actions`` (which can create the first IAM user and key)."""
    exe = BIN / "moto_server"
    if not exe.exists():
        raise ServerUnavailable('moto_server is missing: pip install "moto[server]"')
    port = free_port()
    extra = {"INITIAL_NO_AUTH_ACTION_COUNT": str(free_actions)} if auth else None
    proc = _launch("moto_server", [str(exe), "-H", "127.0.0.1", "-p", str(port)], port, env=extra)
    endpoint = f"http://127.0.0.1:{port}"
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ALLOW_HTTP": "true",
        "AWS_EC2_METADATA_DISABLED": "true",
    }

    def create(bucket: str) -> None:
        req = urllib.request.Request(f"{endpoint}/{bucket}", method="PUT")
        with urllib.request.urlopen(req, timeout=10):
            pass

    return Server("s3", endpoint, env, proc, create)


# -- Azure Blob (Azurite) ----------------------------------------------------------------
def azurite_binary() -> Path | None:
    """``azurite-blob`` installed by scripts/install.d/10-azurite.sh, or on PATH."""
    for candidate in (
        ROOT / ".cache" / "azurite" / "node_modules" / ".bin" / "azurite-blob",
        ROOT / "node_modules" / ".bin" / "azurite-blob",
    ):
        if candidate.exists():
            return candidate
    found = shutil.which("azurite-blob")
    return Path(found) if found else None


def azurite_connection_string(endpoint: str) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
        f"AccountKey={AZURITE_KEY};BlobEndpoint={endpoint};"
    )


def start_azurite() -> Server:
    """Azurite's blob service, in memory."""
    exe = azurite_binary()
    if exe is None:
        raise ServerUnavailable("azurite-blob is missing: run bash scripts/install.d/10-azurite.sh")
    port = free_port()
    argv = [
        str(exe),
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        str(port),
        "--inMemoryPersistence",
        "--silent",
        "--skipApiVersionCheck",
        "--loose",
    ]
    proc = _launch("azurite-blob", argv, port)
    endpoint = f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
    conn = azurite_connection_string(endpoint)
    env = {"AZURE_STORAGE_CONNECTION_STRING": conn}

    def create(bucket: str) -> None:
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import BlobServiceClient

        client = BlobServiceClient.from_connection_string(conn)
        with contextlib.suppress(ResourceExistsError):
            client.create_container(bucket)
        client.close()

    return Server("azure", endpoint, env, proc, create)


# -- Google Cloud Storage (gcp-storage-emulator) ------------------------------------------
def start_gcs() -> Server:
    """gcp-storage-emulator, in memory."""
    exe = BIN / "gcp-storage-emulator"
    if not exe.exists():
        raise ServerUnavailable("gcp-storage-emulator is missing: pip install gcp-storage-emulator")
    port = free_port()
    argv = [str(exe), "start", "-H", "127.0.0.1", "--port", str(port), "--in-memory", "-q"]
    proc = _launch("gcp-storage-emulator", argv, port)
    endpoint = f"http://127.0.0.1:{port}"
    env = {
        "STORAGE_EMULATOR_HOST": endpoint,
        "GOOGLE_CLOUD_PROJECT": GCS_PROJECT,
        "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false",
    }

    def create(bucket: str) -> None:
        body = json.dumps({"name": bucket}).encode()
        req = urllib.request.Request(
            f"{endpoint}/storage/v1/b?project={GCS_PROJECT}",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=10):
                pass
        except urllib.error.HTTPError as exc:
            if exc.code != 409:  # already exists
                raise

    return Server("gcs", endpoint, env, proc, create)


STARTERS: dict[str, Callable[[], Server]] = {"s3": start_s3, "gcs": start_gcs, "azure": start_azurite}


@contextlib.contextmanager
def start_all(names: tuple[str, ...] = ("s3", "gcs", "azure")) -> Iterator[dict[str, Server | Exception]]:
    """Start the named servers; a server that cannot start maps to its exception."""
    running: dict[str, Server | Exception] = {}
    try:
        for name in names:
            try:
                running[name] = STARTERS[name]()
            except ServerUnavailable as exc:
                running[name] = exc
        yield running
    finally:
        for server in running.values():
            if isinstance(server, Server):
                server.stop()


if __name__ == "__main__":  # pragma: no cover - manual check: python tests/servers.py
    with start_all() as servers:
        for key, value in servers.items():
            print(key, value.endpoint if isinstance(value, Server) else f"unavailable: {value}")
