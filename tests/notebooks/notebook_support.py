"""Shared by the notebook tests: where things are, the build script, nbval's collector.

A module with its own name (not ``conftest``): several test folders have a ``conftest.py``,
so ``from conftest import ...`` could find another folder's.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from nbval.kernel import CURRENT_ENV_KERNEL_NAME, RunningKernel
from nbval.plugin import IPyNbFile

__all__ = ["NOTEBOOKS", "ROOT", "SANITIZE", "GlacierNotebook", "build", "notebook_paths"]

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
SANITIZE = NOTEBOOKS / "nbval_sanitize.cfg"


def _load_build() -> Any:
    spec = importlib.util.spec_from_file_location("glacier_notebooks_build", NOTEBOOKS / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


build = _load_build()

for _key, _value in build.KERNEL_ENV.items():
    os.environ.setdefault(_key, _value)


def notebook_paths() -> list[Path]:
    """The committed tutorial notebooks, in order."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def _kernel_for(nb: Any) -> str:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    name = nb.metadata.get("kernelspec", {}).get("name", build.KERNEL_NAME)
    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        return CURRENT_ENV_KERNEL_NAME
    return name


class GlacierNotebook(IPyNbFile):
    """nbval's notebook collector, strict, sanitized, run in a fresh folder."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.compare_outputs = True  # strict whatever the command line says
        self.workdir: Path | None = None

    def get_sanitize_files(self) -> list[str]:
        return [str(SANITIZE)]

    def setup(self) -> None:
        self.workdir = build.workdir()
        shutil.copy(self.path, self.workdir / self.path.name)  # `%glacier export module` reads it
        self.kernel = RunningKernel(
            _kernel_for(self.nb),
            cwd=str(self.workdir),
            startup_timeout=self.config.option.nbval_kernel_startup_timeout,
        )
        self.setup_sanitize_files()

    def teardown(self) -> None:
        super().teardown()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
