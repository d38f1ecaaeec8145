"""Function runtimes for the GCP and Azure rehearsals: the built package installed as the
cloud's build would install it, and served over HTTP by an isolated Python process.

- GCP: the Cloud Functions source is served by the real ``functions-framework`` (the
  runtime's own server), with the function's environment variables.
- Azure: the v2 function app's ``function_app.py`` is loaded with ``azure-functions`` and its
  HTTP triggers are served by a small host here (the Functions host itself is .NET).

The process sees nothing but the package and its installed requirements (``python -I -S``),
with exactly the environment the caller gives.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from glacier.terraform.rehearse.model import RehearsalError

__all__ = ["FunctionServer", "install_requirements", "free_port", "check_python", "unzip"]

#: Serves an Azure Functions v2 app's HTTP triggers (``/api/ROUTE``), loaded through ``azure-functions``.
_AZURE_HOST = r"""
import json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

spec = json.loads(sys.argv[1])
sys.path[:0] = spec["paths"]
import azure.functions as func
import function_app

routes = {}
for fn in function_app.app.get_functions():
    trigger = fn.get_trigger()
    if getattr(trigger, "type", "") == "httpTrigger":
        methods = [getattr(m, "value", str(m)) for m in (trigger.methods or ["GET", "POST"])]
        level = getattr(trigger.auth_level, "value", str(trigger.auth_level))
        routes[trigger.route] = (fn.get_user_function(), methods, level)


class Handler(BaseHTTPRequestHandler):
    def _serve(self):
        url = urlsplit(self.path)
        route = url.path.removeprefix("/api/")
        params = dict(parse_qsl(url.query))
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if route not in routes or self.command not in routes[route][1]:
            return self._answer(404, b'{"error": "no such function"}', "application/json")
        user, _, level = routes[route]
        key = self.headers.get("x-functions-key") or params.get("code")
        if level != "anonymous" and key != spec["key"]:
            return self._answer(401, b"", "text/plain")
        request = func.HttpRequest(self.command, f"http://{spec['host']}{self.path}", headers=dict(self.headers),
                                   params=params, route_params={}, body=body)
        try:
            response = user(request)
        except Exception as exc:
            return self._answer(500, json.dumps({"error": type(exc).__name__, "message": str(exc)}).encode(),
                                "application/json")
        self._answer(response.status_code, response.get_body(), response.mimetype or "text/plain")

    def _answer(self, status, body, mimetype):
        self.send_response(status)
        self.send_header("Content-Type", mimetype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", spec["port"]), Handler).serve_forever()
"""

#: Runs ``functions-framework`` as its command line does, with the package on ``sys.path``.
_GCP_HOST = r"""
import json, runpy, sys
spec = json.loads(sys.argv[1])
sys.path[:0] = spec["paths"]
sys.argv = ["functions-framework", "--target", spec["target"], "--source", spec["source"],
            "--host", "127.0.0.1", "--port", str(spec["port"])]
runpy.run_module("functions_framework", run_name="__main__", alter_sys=True)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check_python(version: str, what: str) -> None:
    """The rehearsal runs the package in this interpreter: it must be the runtime's Python."""
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    if version != here:
        raise RehearsalError(
            f"{what} runs Python {version} and the rehearsal runs Python {here}: the package's compiled "
            f"dependencies are built for {version}; rehearse with a Python {version} interpreter"
        )


def unzip(archive: Path, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(target)
    return target


def install_requirements(requirements: Path, cache: Path, *, wheelhouse: Path | None = None) -> Path:
    """What the cloud's build does with ``requirements.txt`` (Cloud Build, Oryx): ``pip install``
    it into a folder, for this interpreter (kept in ``cache`` by the file's digest)."""
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
    target = cache / f"site-{digest}"
    if (target / ".complete").is_file():
        return target
    tmp = Path(tempfile.mkdtemp(prefix="site-", dir=cache))
    index = ["--no-index", "--find-links", str(wheelhouse)] if wheelhouse else []
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
         "--only-binary=:all:", "--target", str(tmp), *index, "-r", str(requirements)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        tail = " ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        raise RehearsalError(f"installing {requirements.name} as the cloud's build would failed: {tail}")
    (tmp / ".complete").write_text(digest + "\n", encoding="utf-8")
    try:
        os.replace(tmp, target)
    except OSError:  # another rehearsal installed it meanwhile
        shutil.rmtree(tmp, ignore_errors=True)
    return target


@dataclass
class FunctionServer:
    """One function app served on ``127.0.0.1:port`` by an isolated process."""

    kind: str  # "gcp" or "azure"
    paths: list[Path]
    env: dict[str, str]
    cwd: Path
    target: str = "http"
    key: str = ""
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 60.0) -> FunctionServer:
        spec = {"paths": [str(p) for p in self.paths], "port": self.port, "target": self.target,
                "source": str(self.cwd / "main.py"), "key": self.key, "host": f"127.0.0.1:{self.port}"}  # fmt: skip
        boot = _GCP_HOST if self.kind == "gcp" else _AZURE_HOST
        home = tempfile.mkdtemp(prefix="glacier-fn-")
        base = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": home, "TMPDIR": home}
        self.log = Path(home) / "server.log"
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", boot, json.dumps(spec)],
                env={**base, **self.env}, cwd=self.cwd, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RehearsalError(f"the {self.kind} function host exited: {self.tail()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5),
            ):
                return self
            time.sleep(0.1)
        self.stop()
        raise RehearsalError(
            f"the {self.kind} function host did not listen within {timeout:.0f} s: {self.tail()}"
        )

    def tail(self, lines: int = 6) -> str:
        if self.log is None or not self.log.is_file():
            return ""
        return " | ".join(self.log.read_text(errors="replace").strip().splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, 15)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, 9)
            self.process.wait(timeout=10)
