"""Notebook to pipeline module: ``glacier export NOTEBOOK.ipynb -o MODULE.py``.

Examples
--------
>>> from glacier.export import export_notebook
>>> text = export_notebook("notebooks/quickstart.ipynb", "pipelines/quickstart.py")  # doctest: +SKIP
"""

from __future__ import annotations

from glacier.export.core import EXPORT_TAG, SKIP_TAG, export_notebook
from glacier.export.errors import CredentialWarning, ExportDriftError, ExportError, ExportWarning

__all__ = [
    "export_notebook",
    "ExportError",
    "ExportDriftError",
    "ExportWarning",
    "CredentialWarning",
    "SKIP_TAG",
    "EXPORT_TAG",
]
