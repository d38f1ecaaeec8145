"""Servers on loopback for tests: moto's S3, Azurite, a GCS emulator, and the primitives
every server the tests start is launched with (JupyterLab in tests/browser/lab.py too).

Primitives: :func:`free_port`, :func:`launch` (start a process, wait until it is ready, fail
with the tail of its log when it dies or never gets ready) and :func:`stop_process`.

Each storage server runs as a subprocess on a free ``127.0.0.1`` port and is described by a
:class:`Server`: its endpoint, the standard environment variables that point a
client at it, and ``create_bucket``. In tests, use the session fixtures of
``tests/conftest.py`` (``servers``, ``s3_server``); elsewhere::

    from tests.servers import start_s3
    with start_s3() as s3:
        s3.create_bucket("data")
        env = {**os.environ, **s3.env}

A server that cannot start raises :class:`ServerUnavailable` with the command that installs
it; tests then fail with that message, never skip. Azurite needs
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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "AZURITE_ACCOUNT",
    "AZURITE_KEY",
    "Server",
    "ServerPool",
    "ServerUnavailable",
    "azurite_binary",
    "free_port",
    "launch",
    "require_server",
    "start_all",
    "start_azurite",
    "start_gcs",
    "start_s3",
    "stop_process",
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
        if self.process is not None:
            stop_process(self.process)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening(port: int) -> Callable[[], bool]:
    """A readiness check: something accepts TCP connections on ``127.0.0.1:port``."""

    def check() -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
        return False

    return check


def launch(
    name: str,
    argv: list[str],
    port: int,
    *,
    ready: Callable[[], bool] | None = None,
    timeout: float = 20.0,
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
    log: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` and return once ``ready()`` is true (default: the port accepts connections).

    Output goes to ``log`` (a temporary file when not given), never a pipe: a pipe nobody
    reads fills up or breaks, and the server then blocks or dies on its next log line.
    Raises :class:`ServerUnavailable` with the end of the log when the process exits or is
    not ready within ``timeout`` seconds (a start-up bound, not a measurement).
    """
    check = ready or listening(port)
    out = open(log, "w+b") if log is not None else tempfile.TemporaryFile()
    proc = subprocess.Popen(
        argv,
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )

    def tail() -> str:
        out.seek(0)
        return out.read().decode(errors="replace")[-2000:]

    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ServerUnavailable(f"{name} exited with code {proc.returncode}: {tail()}")
            if check():
                return proc
            time.sleep(0.05)
        stop_process(proc)
        raise ServerUnavailable(f"{name} was not ready on 127.0.0.1:{port} within {timeout:.0f} s: {tail()}")
    finally:
        out.close()  # the child keeps its own descriptor


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Terminate ``proc`` (a process this module launched), killing it if it does not exit."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


# -- S3 (moto) ---------------------------------------------------------------------------
def start_s3(*, auth: bool = False, free_actions: int = 0) -> Server:
    """moto's S3 server (``moto_server``); ``auth=True`` checks credentials (IAM) on every
    request after the first ``free_actions`` (which can create the first IAM user and key)."""
    exe = BIN / "moto_server"
    if not exe.exists():
        raise ServerUnavailable('moto_server is missing: pip install "moto[server]"')
    port = free_port()
    extra = {"INITIAL_NO_AUTH_ACTION_COUNT": str(free_actions)} if auth else None
    proc = launch("moto_server", [str(exe), "-H", "127.0.0.1", "-p", str(port)], port, env=extra)
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
    proc = launch("azurite-blob", argv, port)
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
    proc = launch("gcp-storage-emulator", argv, port)
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


class ServerPool(Mapping[str, "Server | ServerUnavailable"]):
    """The storage servers, each started on first use and all stopped by :meth:`close`.

    ``pool["s3"]`` is the running :class:`Server`, or the :class:`ServerUnavailable` saying
    why it could not start (asked once; the answer is kept).
    """

    def __init__(self, names: tuple[str, ...] = tuple(STARTERS)) -> None:
        self._names = names
        self._started: dict[str, Server | ServerUnavailable] = {}

    def __getitem__(self, name: str) -> Server | ServerUnavailable:
        if name not in self._names:
            raise KeyError(name)
        if name not in self._started:
            try:
                self._started[name] = STARTERS[name]()
            except ServerUnavailable as exc:
                self._started[name] = exc
        return self._started[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def require(self, name: str) -> Server:
        """The running server; raises its :class:`ServerUnavailable` when it could not start."""
        server = self[name]
        if isinstance(server, ServerUnavailable):
            raise server
        return server

    def close(self) -> None:
        """Stop every server this pool started."""
        for server in self._started.values():
            if isinstance(server, Server):
                server.stop()
        self._started.clear()


def require_server(servers: Mapping[str, Server | Exception], name: str) -> Server:
    """In a test: the running server, or a test failure saying why it is not and how to install it
    (a missing server fails, never skips)."""
    import pytest

    server = servers[name]
    if isinstance(server, Exception):
        pytest.fail(f"the {name} server is not available: {server}", pytrace=False)
    return server


@contextlib.contextmanager
def start_all(names: tuple[str, ...] = tuple(STARTERS)) -> Iterator[dict[str, Server | ServerUnavailable]]:
    """Start the named servers now; a server that cannot start maps to its exception."""
    pool = ServerPool(names)
    try:
        yield {name: pool[name] for name in names}
    finally:
        pool.close()


if __name__ == "__main__":  # pragma: no cover - manual check: python tests/servers.py
    with start_all() as servers:
        for key, value in servers.items():
            print(key, value.endpoint if isinstance(value, Server) else f"unavailable: {value}")
