"""Building small notebooks for tests without importing nbformat (it takes seconds)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["code", "markdown", "notebook", "write_notebook", "ROOT", "SAMPLES"]

ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLES = Path(__file__).resolve().parent / "notebooks"


def code(source: str, *tags: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"tags": list(tags)} if tags else {}
    return {
        "cell_type": "code",
        "execution_count": None,
        "metadata": metadata,
        "outputs": [],
        "source": source,
    }


def markdown(source: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": source}


def notebook(*cells: dict[str, Any]) -> dict[str, Any]:
    return {
        "cells": list(cells),
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def write_notebook(path: Path, *cells: dict[str, Any]) -> Path:
    nb = notebook(*cells)
    for i, cell in enumerate(nb["cells"]):
        cell["id"] = f"cell-{i}"
    path.write_text(json.dumps(nb, indent=1) + "\n", encoding="utf-8")
    return path
