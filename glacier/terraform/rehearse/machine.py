"""A VM for the rehearsal: the generated script run by real ``bash``, with stand-ins for the
few tools of the image it calls.

The stand-ins (on ``PATH`` before the system's) are small programs of the rehearsal's own
Python: ``curl`` answers the metadata services (GCP's instance metadata and project id;
Azure's managed-identity token) and reads or writes blobs of the artifacts container;
``gsutil cp`` copies to and from the storage the endpoint variables name; ``systemd-run``
starts its command detached; ``shutdown`` powers the VM off; ``python3`` is this interpreter
with no site-packages (``-s -S``: it sees the standard library and ``PYTHONPATH`` only, as the
image's bare Python does). Nothing else is faked: the script's own logic runs as written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Machine"]

_TOOL = r"""#!__PYTHON__
import json, os, sys
state = json.load(open(os.environ["GLACIER_REHEARSAL_MACHINE"]))
args = sys.argv[1:]


def log(line):
    with open(state["log"], "a") as fh:
        fh.write(line + "\n")


def gcs():
    import gcsfs
    return gcsfs.GCSFileSystem(endpoint_url=state["gcs"], token="anon", project=state.get("project"))


def blob(url):
    from azure.storage.blob import BlobClient
    rest = url.split(".blob.core.windows.net/", 1)[1]
    container, _, name = rest.partition("/")
    return BlobClient.from_connection_string(state["azure"], container, name.split("?", 1)[0])


def curl():
    out, method, data, headers, url = None, "GET", None, {}, None
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-o", "-X", "-H", "--data-binary"):
            value = args[i + 1]
            i += 2
            if a == "-o":
                out = value
            elif a == "-X":
                method = value
            elif a == "-H":
                k, _, v = value.partition(":")
                headers[k.strip().lower()] = v.strip()
            else:
                data = open(value[1:], "rb").read() if value.startswith("@") else value.encode()
            continue
        if not a.startswith("-"):
            url = a
        i += 1
    log(f"curl {method} {url}")
    meta = state.get("metadata", {})
    if url.startswith("http://metadata.google.internal/computeMetadata/v1/"):
        key = url.rsplit("/", 1)[1]
        value = state.get("project") if url.endswith("/project/project-id") else meta.get(key)
        if value is None:
            sys.exit(22)
        sys.stdout.write(value)
        return
    if url.startswith("http://169.254.169.254/metadata/identity/oauth2/token"):
        sys.stdout.write(json.dumps({"access_token": "rehearsal-token", "token_type": "Bearer"}))
        return
    if ".blob.core.windows.net/" in url:
        from azure.core.exceptions import ResourceNotFoundError
        from azure.storage.blob import ContentSettings
        client = blob(url)
        if method == "PUT":
            settings = ContentSettings(content_type=headers.get("content-type", "application/octet-stream"))
            client.upload_blob(data or b"", overwrite=True, content_settings=settings)
            return
        try:
            payload = client.download_blob().readall()
        except ResourceNotFoundError:
            sys.exit(22)
        if out:
            open(out, "wb").write(payload)
        else:
            sys.stdout.buffer.write(payload)
        return
    sys.stderr.write(f"curl: the rehearsal's VM reaches only its metadata service and storage, not {url}\n")
    sys.exit(7)


def gsutil():
    rest = [a for a in args if a != "-q"]
    headers = {}
    while rest and rest[0] == "-h":
        k, _, v = rest[1].partition(":")
        headers[k.strip().lower()] = v.strip()
        rest = rest[2:]
    if rest[:1] != ["cp"] or len(rest) != 3:
        sys.stderr.write(f"gsutil: the rehearsal knows only 'gsutil [-q] [-h H:V] cp SRC DST', not {args}\n")
        sys.exit(2)
    src, dst = rest[1], rest[2]
    log(f"gsutil cp {src} {dst}")
    fs = gcs()
    try:
        if src.startswith("gs://"):
            fs.get(src[5:], dst)
        else:
            kwargs = {"content_type": headers["content-type"]} if "content-type" in headers else {}
            fs.pipe_file(dst[5:], open(src, "rb").read(), **kwargs)
    except FileNotFoundError:
        sys.stderr.write(f"CommandException: No URLs matched: {src}\n")
        sys.exit(1)


def systemd_run():
    rest = list(args)
    env = {k: v for k, v in os.environ.items()}
    while rest and rest[0].startswith("-"):
        a = rest.pop(0)
        if a == "--unit":
            rest.pop(0)
        elif a.startswith("--setenv="):
            k, _, v = a[len("--setenv="):].partition("=")
            env[k] = v
    import subprocess
    log(f"systemd-run {' '.join(rest)}")
    proc = subprocess.Popen(rest, env=env, stdout=open(state["log"] + ".unit", "ab"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    with open(state["log"] + ".pids", "a") as fh:
        fh.write(f"{proc.pid}\n")


def shutdown():
    log("shutdown")
    open(state["log"] + ".off", "w").close()


{"curl": curl, "gsutil": gsutil, "systemd-run": systemd_run, "shutdown": shutdown}[os.path.basename(sys.argv[0])]()
"""


@dataclass
class Machine:
    """One VM: its metadata, its disk (``root``, where ``/opt/glacier`` lives) and its tools."""

    name: str
    work: Path
    metadata: dict[str, str] = field(default_factory=dict)
    project: str | None = None
    storage_env: dict[str, str] = field(default_factory=dict)
    root: Path = field(init=False)

    def __post_init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix=f"vm-{self.name}-", dir=self.work))
        self.bin = self.root / "bin"
        self.bin.mkdir()
        tool = _TOOL.replace("__PYTHON__", sys.executable)
        for name in ("curl", "gsutil", "systemd-run", "shutdown"):
            path = self.bin / name
            path.write_text(tool, encoding="utf-8")
            path.chmod(0o755)
        python3 = self.bin / "python3"
        python3.write_text(f'#!/bin/sh\nexec "{sys.executable}" -s -S "$@"\n', encoding="utf-8")
        python3.chmod(0o755)
        self.log = self.root / "tools.log"
        self.log.touch()

    def _state(self) -> Path:
        state = {
            "metadata": self.metadata,
            "project": self.project,
            "log": str(self.log),
            "gcs": self.storage_env.get("STORAGE_EMULATOR_HOST"),
            "azure": self.storage_env.get("AZURE_STORAGE_CONNECTION_STRING"),
        }
        path = self.root / "state.json"
        path.write_text(json.dumps(state), encoding="utf-8")
        return path

    def run(self, script: str, *, timeout: float = 3600.0) -> subprocess.CompletedProcess[str]:
        """Run ``script`` with ``bash`` as the VM would (as root, from ``/``: here its own folder)."""
        path = self.root / f"script-{len(list(self.root.glob('script-*')))}.sh"
        path.write_text(script, encoding="utf-8")
        home = self.root / "home"
        home.mkdir(exist_ok=True)
        env = {
            "PATH": f"{self.bin}:/usr/bin:/bin",
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "GLACIER_HOME": str(self.root / "opt-glacier"),
            "GLACIER_PROGRESS": "0",
            "GLACIER_REHEARSAL_MACHINE": str(self._state()),
            **self.storage_env,
        }
        return subprocess.run(
            ["bash", str(path)],
            env=env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    @property
    def powered_off(self) -> bool:
        return Path(str(self.log) + ".off").exists()

    def detached(self) -> list[int]:
        """Process ids ``systemd-run`` started."""
        pids = Path(str(self.log) + ".pids")
        return [int(p) for p in pids.read_text().split()] if pids.is_file() else []

    def stop(self) -> None:
        """Stop what still runs detached (the rehearsal is over)."""
        for pid in self.detached():
            try:
                os.killpg(pid, 15)
            except (ProcessLookupError, PermissionError):
                continue
