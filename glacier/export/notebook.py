"""Reading a notebook: nbformat 4 JSON into a list of cells, checked for structure.

The JSON is read with the standard library and checked against the parts of the nbformat 4
schema the exporter relies on; importing ``nbformat`` itself costs seconds (its validator
pulls in jsonschema's format checkers), which would make a pre-commit hook slow. Older
notebooks (nbformat 3) are converted with ``nbformat`` when it is installed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glacier.export.errors import ExportError

__all__ = ["Cell", "read_cells"]

_CELL_TYPES = ("code", "markdown", "raw")


@dataclass(frozen=True, slots=True)
class Cell:
    """One notebook cell. ``number`` counts every cell from 1, as the notebook shows them."""

    number: int
    kind: str
    source: str
    tags: tuple[str, ...] = ()


def read_cells(notebook: str | os.PathLike[str] | Mapping[str, Any], *, label: str) -> list[Cell]:
    """The cells of ``notebook`` (a path or an already loaded notebook dict)."""
    if isinstance(notebook, Mapping):
        data: Any = notebook
    else:
        path = Path(notebook)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ExportError(f"no such notebook: {label}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ExportError(f"cannot read notebook {label}: {exc}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ExportError(
                f"{label} is not a valid notebook: not JSON (line {exc.lineno}: {exc.msg}); "
                "an .ipynb file is the JSON that Jupyter saves"
            ) from None
    return _cells(_upgrade(data, label), label)


def _upgrade(data: Any, label: str) -> Any:
    if not isinstance(data, Mapping):
        raise ExportError(
            f"{label} is not a valid notebook: the JSON is a {type(data).__name__}, not an object"
        )
    major = data.get("nbformat")
    if major == 4:
        return data
    if isinstance(major, int) and 1 <= major < 4:
        try:
            import nbformat
        except ImportError:  # pragma: no cover - nbformat ships with the jupyter extra
            raise ExportError(
                f"{label} is an nbformat {major} notebook: save it with a recent Jupyter "
                '(or pip install "glacier-pipelines[jupyter]" to convert it)'
            ) from None
        try:
            return nbformat.convert(nbformat.from_dict(dict(data)), 4)
        except Exception as exc:
            raise ExportError(
                f"{label} is not a valid notebook: cannot convert nbformat {major}: {exc}"
            ) from None
    raise ExportError(
        f"{label} is not a valid notebook: 'nbformat' is {major!r}, expected 4 "
        "(the notebook format Jupyter saves)"
    )


def _cells(data: Mapping[str, Any], label: str) -> list[Cell]:
    raw = data.get("cells")
    if not isinstance(raw, list):
        raise ExportError(f"{label} is not a valid notebook: it has no 'cells' list")
    cells: list[Cell] = []
    for number, cell in enumerate(raw, start=1):
        where = f"{label} is not a valid notebook: cell {number}"
        if not isinstance(cell, Mapping):
            raise ExportError(f"{where} is a {type(cell).__name__}, not an object")
        kind = cell.get("cell_type")
        if kind not in _CELL_TYPES:
            raise ExportError(f"{where} has cell_type {kind!r}; expected one of {', '.join(_CELL_TYPES)}")
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise ExportError(f"{where} has a 'source' that is neither a string nor a list of strings")
        metadata = cell.get("metadata", {})
        if not isinstance(metadata, Mapping):
            raise ExportError(f"{where} has 'metadata' that is not an object")
        tags = metadata.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise ExportError(f"{where} has 'metadata.tags' that is not a list of strings")
        cells.append(Cell(number, kind, source.replace("\r\n", "\n"), tuple(tags)))
    return cells
