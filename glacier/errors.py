"""Glacier's exceptions.

::

    GlacierError
    ├── ConfigError (ValueError)            a config that does not fit where it is used
    ├── MissingDependencyError (ImportError) an optional extra is not installed
    ├── StorageError                        a read or write that cannot be done
    │   └── BucketPathError (ValueError)    a path that escapes its bucket
    ├── DefinitionError (TypeError)         a task or pipeline defined or called wrongly
    └── PipelineError                       a run failed; ``.record`` says what happened
        └── DeploymentRequiredError         the executor's engine is not deployed
"""

from __future__ import annotations

import os
import sysconfig
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from glacier.run.record import RunRecord

__all__ = [
    "GlacierError",
    "ConfigError",
    "MissingDependencyError",
    "StorageError",
    "BucketPathError",
    "DefinitionError",
    "PipelineError",
    "DeploymentRequiredError",
    "require",
    "user_frames",
]


class GlacierError(Exception):
    """Base of every error Glacier raises on purpose."""


class ConfigError(GlacierError, ValueError):
    """A config that does not fit where it is used (wrong cloud, wrong kind)."""


class MissingDependencyError(GlacierError, ImportError):
    """An optional dependency is missing; the message gives the ``pip install`` line."""


class StorageError(GlacierError):
    """A read or write that cannot be done (missing object, unknown format ...)."""


class BucketPathError(StorageError, ValueError):
    """A bucket path that is absolute or escapes its bucket."""


class DefinitionError(GlacierError, TypeError):
    """A task or pipeline that is defined or called wrongly."""


class PipelineError(GlacierError):
    """A pipeline run failed. ``record`` holds every task's status."""

    def __init__(self, message: str, record: RunRecord | None = None) -> None:
        super().__init__(message)
        self.record = record

    def _render_traceback_(self) -> list[str]:
        """What IPython shows: the user's frames (the line that ran the pipeline, the
        failing task's own lines) and the message, without Glacier's frames."""
        import traceback

        return "".join(traceback.format_exception(user_frames(self))).rstrip("\n").splitlines()


class DeploymentRequiredError(PipelineError):
    """An executor whose engine needs deployed cloud infrastructure."""


def require(module: str, extra: str, purpose: str) -> Any:
    """Import ``module`` or raise ``MissingDependencyError`` naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{purpose} needs the '{module}' package: pip install \"glacier-pipelines[{extra}]\""
        ) from exc


_OWN = os.path.dirname(os.path.abspath(__file__)) + os.sep
_STDLIB = os.path.abspath(sysconfig.get_paths()["stdlib"]) + os.sep


def _theirs(tb: types.TracebackType) -> bool:
    """A frame of the user's code (or a library it calls): not Glacier's, not the standard
    library's, not one its owner hides (``__tracebackhide__``, e.g. IPython's own)."""
    path = os.path.abspath(tb.tb_frame.f_code.co_filename)
    if path.startswith(_OWN) or path.startswith(_STDLIB):
        return False
    return not tb.tb_frame.f_locals.get("__tracebackhide__")


def user_frames(exc: BaseException) -> BaseException:
    """``exc`` with only the user's frames (and their libraries') in its traceback and in
    those of its causes: a failed run shows the line that ran the pipeline and the task's
    own lines, not Glacier's scheduler or the standard library under it. Returns ``exc``.

    ``GLACIER_FULL_TRACEBACK=1`` keeps every frame (for a bug report on Glacier itself).
    """
    if os.environ.get("GLACIER_FULL_TRACEBACK", "").strip() not in ("", "0"):
        return exc
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        err = todo.pop()
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        kept = []
        tb = err.__traceback__
        while tb is not None:
            if _theirs(tb):
                kept.append(tb)
            tb = tb.tb_next
        rebuilt = None
        for frame in reversed(kept):
            rebuilt = types.TracebackType(rebuilt, frame.tb_frame, frame.tb_lasti, frame.tb_lineno)
        err.__traceback__ = rebuilt
        todo += [err.__cause__, err.__context__]
    return exc
