"""Run every tutorial notebook (``notebooks/NN_*.ipynb``) under nbval, strictly.

Plain ``pytest`` (``make test``) collects them: ``tests/notebooks/test_notebooks.py`` is
collected as a module that also holds one nbval collector per notebook, so no ``--nbval``
flag and no ``addopts`` are needed. Outputs are compared in full (never ``--nbval-lax``)
after the substitutions in ``notebooks/nbval_sanitize.cfg``.

Each notebook runs as it does in ``notebooks/build.py``: a copy of it in a fresh
``glacier-nb-*`` temporary folder (its relative ``./data`` paths land there, not in the
repository), on the ``glacier`` kernel (``scripts/install.d/40-kernel.sh``) or, when that
is not installed, on this interpreter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.notebooks.notebook_support import GlacierNotebook, notebook_paths


class NotebookModule(pytest.Module):
    """``test_notebooks.py``'s own tests, then the notebooks themselves."""

    def collect(self) -> Any:
        yield from super().collect()
        for path in notebook_paths():
            yield GlacierNotebook.from_parent(self, path=path)


def pytest_pycollect_makemodule(module_path: Path, parent: Any) -> Any:
    if module_path.name == "test_notebooks.py" and module_path.parent == Path(__file__).parent:
        return NotebookModule.from_parent(parent, path=module_path)
    return None
