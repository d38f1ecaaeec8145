"""Run a deployed entry point in a Python that sees nothing but its package.

``python -I -S``: no user or site-packages directory, no ``PYTHON*`` variables; the package
folders (the function code, its layers) are the only entries put in front of the standard
library, as the cloud runtime does. The environment is exactly what the caller gives.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Outcome", "run_function", "run_script"]

_BOOT = r"""
import json, sys, traceback
spec = json.loads(sys.argv[1])
sys.path[:0] = spec["paths"]
out = {}
try:
    if spec["mode"] == "function":
        module, _, name = spec["entry"].rpartition(".")
        handler = getattr(__import__(module), name)
        out = {"result": handler(spec["event"], None)}
    else:
        import runpy
        sys.argv = [spec["entry"], *spec["argv"]]
        runpy.run_path(spec["entry"], run_name="__main__")
        out = {"result": None}
except SystemExit as exc:
    if exc.code not in (0, None):
        out = {"errorType": "SystemExit", "errorMessage": str(exc.code)}
    else:
        out = {"result": None}
except BaseException as exc:
    out = {"errorType": type(exc).__name__, "errorMessage": str(exc),
           "stackTrace": traceback.format_exception(exc)[-6:]}
with open(spec["result"], "w") as fh:
    json.dump(out, fh, default=str)
"""


@dataclass
class Outcome:
    """What one isolated run returned (``result``) or raised (``error_type``, ``message``)."""

    result: Any = None
    error_type: str | None = None
    message: str = ""
    stdout: str = ""
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.error_type is None


def _run(spec: dict[str, Any], env: dict[str, str], cwd: Path, timeout: float) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="glacier-task-") as tmp:
        spec = {**spec, "result": str(Path(tmp) / "result.json")}
        base = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": tmp, "TMPDIR": tmp}
        try:
            proc = subprocess.run(
                [sys.executable, "-I", "-S", "-c", _BOOT, json.dumps(spec)],
                env={**base, **env},
                cwd=cwd,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return Outcome(error_type="States.Timeout", message=f"task timed out after {timeout:.0f} s")
        result = Path(spec["result"])
        if not result.is_file():
            tail = (proc.stderr or "").strip().splitlines()[-3:]
            return Outcome(
                error_type="Runtime.ExitError",
                message=f"the process exited with {proc.returncode}: {' '.join(tail)}",
                stdout=proc.stdout,
                stderr=proc.stderr,
            )
        data = json.loads(result.read_text(encoding="utf-8"))
    return Outcome(
        data.get("result"), data.get("errorType"), data.get("errorMessage", ""), proc.stdout, proc.stderr
    )


def run_function(
    paths: list[Path], entry: str, event: Any, env: dict[str, str], *, cwd: Path, timeout: float
) -> Outcome:
    """Call ``entry`` (``module.function``) with ``(event, None)``, as Lambda does."""
    spec = {"mode": "function", "paths": [str(p) for p in paths], "entry": entry, "event": event}
    return _run(spec, env, cwd, timeout)


def run_script(
    paths: list[Path], script: Path, argv: list[str], env: dict[str, str], *, cwd: Path, timeout: float
) -> Outcome:
    """Run ``script`` as ``__main__`` with ``argv``, as a VM's command line does."""
    spec = {"mode": "script", "paths": [str(p) for p in paths], "entry": str(script), "argv": argv}
    return _run(spec, env, cwd, timeout)
