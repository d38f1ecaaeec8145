"""``export_notebook``: a notebook in, a pipeline module out (or a drift check)."""

from __future__ import annotations

import ast
import difflib
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from glacier.export import magics
from glacier.export.classify import Analyzer, Run
from glacier.export.errors import CredentialWarning, ExportDriftError, ExportError, ExportWarning
from glacier.export.notebook import Cell, read_cells
from glacier.export.render import format_source, markdown_comment, render
from glacier.export.secrets import find_credentials

__all__ = ["export_notebook", "SKIP_TAG", "EXPORT_TAG"]

SKIP_TAG = "glacier-skip"
EXPORT_TAG = "glacier-export"
_DIRECTIVES = {f"#| {SKIP_TAG}": SKIP_TAG, f"#| {EXPORT_TAG}": EXPORT_TAG}


def export_notebook(
    notebook: str | os.PathLike[str] | Mapping[str, Any],
    out: str | os.PathLike[str] | None = None,
    *,
    pipeline: str | None = None,
    check: bool = False,
) -> str:
    """Export a notebook to a pipeline module and return the module's text.

    Parameters
    ----------
    notebook : path or dict
        The ``.ipynb`` file (or a notebook already loaded as a dict).
    out : path, optional
        Where the module goes. Written only when it changes (and never with ``check``).
    pipeline : str, optional
        The pipeline ``if __name__ == "__main__":`` runs (its Python name or its
        ``name=``); by default the one the notebook ran last.
    check : bool
        Do not write: raise :class:`ExportDriftError` (with ``.diff``) when ``out`` is not
        what the notebook exports today.

    Raises
    ------
    ExportError
        The notebook cannot be exported: not a notebook, a cell that does not parse,
        no pipeline, an unknown ``pipeline``.

    Examples
    --------
    >>> export_notebook("notebooks/quickstart.ipynb", "pipelines/quickstart.py")  # doctest: +SKIP
    """
    label = _label(notebook, out)
    cells = read_cells(notebook, label=label)
    text = _export(cells, label=label, pipeline=pipeline, base=_base_dir(notebook))
    if out is None:
        if check:
            raise ExportError("check=True compares with a module: give out=PATH (-o PATH)")
        return text
    target = Path(out)
    current = target.read_text(encoding="utf-8") if target.is_file() else None
    if check:
        if current != text:
            diff = "".join(
                difflib.unified_diff(
                    (current or "").splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    fromfile=f"{target.as_posix()} (on disk)",
                    tofile=f"{target.as_posix()} (exported from {label})",
                )
            )
            what = "does not exist" if current is None else "is out of date"
            given = "NOTEBOOK" if isinstance(notebook, Mapping) else Path(notebook).as_posix()
            raise ExportDriftError(
                f"{target.as_posix()} {what}: the notebook {given} exports something else; "
                f"export it again (glacier export {given} -o {target.as_posix()})",
                diff,
            )
        return text
    if current != text:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return text


def _label(notebook: Any, out: Any) -> str:
    """How the header and messages name the notebook: relative, never absolute."""
    if isinstance(notebook, Mapping):
        return "<notebook>"
    path = Path(notebook).resolve()
    if out is None:  # relative to the working folder when inside it, else the file name
        try:
            return path.relative_to(Path.cwd().resolve()).as_posix()
        except ValueError:
            return path.name
    try:  # relative to the module's folder: the same wherever the repository is checked out
        return Path(os.path.relpath(path, Path(out).resolve().parent)).as_posix()
    except ValueError:  # another drive on Windows
        return path.name


def _base_dir(notebook: Any) -> str | None:
    return None if isinstance(notebook, Mapping) else str(Path(notebook).resolve().parent)


def _export(cells: list[Cell], *, label: str, pipeline: str | None, base: str | None) -> str:
    if not any(c.kind == "code" and c.source.strip() for c in cells):
        raise ExportError(f"{label} has no code: there is nothing to export (an empty notebook?)")
    analyzer = Analyzer()
    markdown: list[str] = []
    home = os.path.expanduser("~")
    for cell in cells:
        if cell.kind == "markdown":
            markdown.append(cell.source)
            continue
        if cell.kind != "code":
            continue
        tags = set(cell.tags)
        first = cell.source.lstrip().split("\n", 1)[0].strip()
        if first in _DIRECTIVES:
            tags.add(_DIRECTIVES[first])
        comment = markdown_comment("\n\n".join(markdown)) if markdown else ""
        markdown = []
        if SKIP_TAG in tags or not cell.source.strip():
            continue
        _warn_credentials(cell, label)
        tree, source, cleaned = _parse(cell, label)
        if cleaned is not None:
            analyzer.taint(cleaned.bound)
        if tree is None:
            continue
        _warn_absolute_paths(tree, cell, label, home, base)
        for run in cleaned.runs if cleaned is not None else ():
            if run.pipeline in analyzer.analysis.pipelines:
                args = [f'mode="{run.mode}"'] if run.mode else []
                args += run.params
                position = len(analyzer.analysis.pieces)
                analyzer.analysis.runs.append(Run(run.pipeline, args, cell.number, run.line, position))
        analyzer.add(tree, source, cell.number, force=EXPORT_TAG in tags, comment=comment)
    analysis = analyzer.analysis
    for cell_number, line, note in analysis.notes:
        warnings.warn(f"{label} cell {cell_number}, line {line}: {note}", ExportWarning, stacklevel=3)
    if not analysis.pipelines:
        raise ExportError(
            f"{label} defines no pipeline: a module needs at least one function decorated with "
            '@pipeline(name="...") whose body calls tasks'
        )
    main = _main_pipeline(analysis.pipelines, analysis.runs, pipeline, label)
    text = render(analysis, source_label=label, main=main)
    try:
        ast.parse(text)
    except SyntaxError as exc:  # pragma: no cover - a bug in the exporter, not in the notebook
        raise ExportError(
            f"exporting {label} produced invalid Python (line {exc.lineno}): {exc.msg}"
        ) from None
    return format_source(text)


def _parse(cell: Cell, label: str) -> tuple[ast.Module | None, str, magics.Cleaned | None]:
    source = cell.source
    try:
        return ast.parse(source), source, None
    except SyntaxError:
        pass
    cleaned = magics.clean(source)
    if cleaned.dropped_cell is not None:
        return None, "", cleaned
    try:
        return ast.parse(cleaned.source), cleaned.source, cleaned
    except SyntaxError as exc:
        where = f"cell {cell.number}, line {exc.lineno}" if exc.lineno else f"cell {cell.number}"
        text = (exc.text or "").strip()
        shown = f": {text!r}" if text and len(text) <= 80 else ""
        raise ExportError(f"{label} {where} does not parse: {exc.msg}{shown}") from None


def _warn_credentials(cell: Cell, label: str) -> None:
    for line, what in find_credentials(cell.source):
        warnings.warn(
            f"{label} cell {cell.number}, line {line}: a literal looks like {what}; it is in the notebook "
            "and will be in the exported module. Read secrets from the environment "
            "(os.environ[...]) or a secret store instead",
            CredentialWarning,
            stacklevel=4,
        )


def _warn_absolute_paths(tree: ast.Module, cell: Cell, label: str, home: str, base: str | None) -> None:
    roots = tuple(r for r in (base, home) if r and len(r) > 1)
    if not roots:
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith(roots):
            warnings.warn(
                f"{label} cell {cell.number}, line {node.lineno}: an absolute path on this machine; "
                "the module will only run here. Use a path relative to the working folder",
                ExportWarning,
                stacklevel=4,
            )


def _main_pipeline(
    pipelines: Mapping[str, Any], runs: list[Run], wanted: str | None, label: str
) -> tuple[str, Run | None]:
    if wanted is not None:
        matches = [v for v, p in pipelines.items() if wanted in (v, p.name)]
        if not matches:
            known = ", ".join(sorted({*pipelines, *(p.name for p in pipelines.values())}))
            raise ExportError(f"{label} has no pipeline {wanted!r}; its pipelines are: {known}")
        var = matches[-1]
    else:
        ran = [r for r in runs if r.var in pipelines]
        var = ran[-1].var if ran else list(pipelines)[-1]
    last = [r for r in runs if r.var == var]
    return var, (last[-1] if last else None)
