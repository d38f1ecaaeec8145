"""IPython syntax in a code cell: cell magics, line magics, shell escapes, help queries.

None of it is Python, so none of it reaches the module. Lines are blanked (or replaced by
``pass`` inside an indented block) so that line numbers in error messages still match the
cell. ``%glacier run PIPELINE`` lines are remembered: they count as runs of the pipeline.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
from dataclasses import dataclass, field

__all__ = ["Cleaned", "MagicRun", "clean", "PYTHON_CELL_MAGICS"]

#: Cell magics whose body is ordinary Python run once: the body is kept.
PYTHON_CELL_MAGICS = frozenset({"time", "capture"})

_MAGIC_LINE = re.compile(r"^(?P<indent>[ \t]*)(?:%|!|(?P<target>[\w.]+)\s*=\s*[%!]|[\w.]+\?{1,2}\s*$|\?)")


@dataclass(frozen=True, slots=True)
class MagicRun:
    """``%glacier run NAME [--mode MODE]`` seen in a cell."""

    pipeline: str
    mode: str | None
    line: int
    params: tuple[str, ...] = ()


@dataclass(slots=True)
class Cleaned:
    """A cell's source with IPython syntax removed."""

    source: str
    dropped_cell: str | None = None  # the cell magic that made the whole cell go
    magic_lines: list[int] = field(default_factory=list)
    runs: list[MagicRun] = field(default_factory=list)
    bound: set[str] = field(default_factory=set)  # names assigned from magics: ``files = !ls``


def clean(source: str) -> Cleaned:
    """Remove IPython syntax from ``source``; keep line numbers."""
    lines = source.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    result = Cleaned("")
    if first is not None and lines[first].lstrip().startswith("%%"):
        name = lines[first].lstrip()[2:].split(maxsplit=1)
        magic = name[0] if name else ""
        result.bound = _capture_target(lines[first])
        if magic not in PYTHON_CELL_MAGICS:
            result.dropped_cell = f"%%{magic}"
            return result
        lines[first] = ""
    in_continuation = False
    for i, line in enumerate(lines):
        if in_continuation:  # a magic line continued with a backslash
            in_continuation = line.rstrip().endswith("\\")
            lines[i] = ""
            continue
        match = _MAGIC_LINE.match(line)
        if match is None:
            continue
        result.magic_lines.append(i + 1)
        if match.group("target"):
            result.bound.add(match.group("target").split(".")[0])
        run = _glacier_run(line.strip(), i + 1)
        if run is not None:
            result.runs.append(run)
        indent = match.group("indent")
        lines[i] = f"{indent}pass" if indent else ""
        in_continuation = line.rstrip().endswith("\\")
    result.source = "\n".join(lines)
    return result


def _capture_target(line: str) -> set[str]:
    """``%%capture out`` binds ``out``."""
    words = line.split()
    return {words[1]} if len(words) > 1 and words[0] == "%%capture" and words[1].isidentifier() else set()


def _glacier_run(line: str, lineno: int) -> MagicRun | None:
    """``%glacier run NAME [--mode M] [--param k=v ...]``; values are Python literals, else text."""
    if not line.startswith("%glacier"):
        return None
    try:
        words = shlex.split(line)
    except ValueError:
        return None
    if len(words) < 3 or words[0] != "%glacier" or words[1] != "run":
        return None
    mode = None
    params: list[str] = []
    rest = iter(words[3:])
    for word in rest:
        if word in ("--mode", "--param", "-p"):
            option, value = word, next(rest, "")
        elif word.startswith(("--mode=", "--param=")):
            option, _, value = word.partition("=")
        else:
            continue
        if option == "--mode":
            mode = value
        else:
            key, sep, raw = value.partition("=")
            if sep and key.isidentifier():
                params.append(f"{key}={_literal(raw)}")
    return MagicRun(words[2], mode, lineno, tuple(params))


def _literal(raw: str) -> str:
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return json.dumps(raw)
    return json.dumps(value) if isinstance(value, str) else repr(value)
