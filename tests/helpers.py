"""Helpers shared by test folders: the repository's paths and the example scripts as modules.

Fixtures built on these live in ``tests/conftest.py``; import the plain helpers as
``from tests.helpers import load_example``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

__all__ = ["EXAMPLES", "ROOT", "UPDATE_SNAPSHOTS", "child_env", "load_example", "update_snapshots"]

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
#: the one switch that rewrites every golden file (Terraform, export) from the current output
UPDATE_SNAPSHOTS = "GLACIER_UPDATE_SNAPSHOTS"


def update_snapshots() -> bool:
    """True when ``GLACIER_UPDATE_SNAPSHOTS=1``: snapshot tests rewrite their golden files."""
    return os.environ.get(UPDATE_SNAPSHOTS) == "1"


def load_example(name: str) -> ModuleType:
    """``examples/<name>.py`` imported under its own name (once; later calls return the same module).

    The module is registered in ``sys.modules`` so that what reads a task's module by name
    (``inspect.getsource``, the Terraform export, pickling) finds it, as for ``python -m``.
    """
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None, f"no example named {name!r} in {EXAMPLES}"
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a child Python process that imports ``glacier`` and ``tests``.

    Keeps the caller's ``PYTHONPATH`` (so a checkout under test stays the one imported) and
    puts the repository root first on it.
    """
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "GLACIER_PROGRESS": "0", "PYTHONPATH": path, **extra}
