"""Refuse to start a Dask LocalCluster from a script's unguarded top level.

LocalCluster starts its workers with multiprocessing's ``spawn`` method, and each
worker re-imports the script that is ``__main__``. A run at the script's top level (not
under ``if __name__ == "__main__":``) then starts a cluster in every worker, which
multiprocessing refuses: ~430 lines of "Nanny failed to start" tracebacks. The same test
multiprocessing makes too late (``spawn._check_not_importing_main``) is made here before
any process starts, from the script's source, and answered with one error saying what
to add.
"""

from __future__ import annotations

import ast
import multiprocessing
import os
import sys
from types import FrameType

from glacier.errors import DefinitionError

__all__ = ["check_main_guard"]


def check_main_guard(processes: bool = True) -> None:
    """Raise ``DefinitionError`` when starting worker processes would re-run this run.

    Parameters
    ----------
    processes : bool
        Whether the cluster starts worker processes (``DaskConfig.processes``).
    """
    if not processes or _start_method() == "fork":
        return
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise DefinitionError(_message(_main_file() or "the script", None))
    main = sys.modules.get("__main__")
    if main is None or not _reimported(main):
        return
    frame = _top_level_frame(main.__dict__)
    if frame is None:
        return
    path = frame.f_code.co_filename
    if not _guarded(path, frame.f_lineno):
        raise DefinitionError(_message(path, frame.f_lineno))


def _start_method() -> str:
    try:
        import dask

        return str(dask.config.get("distributed.worker.multiprocessing-method", "spawn"))
    except Exception:
        return "spawn"


def _main_file() -> str | None:
    return getattr(sys.modules.get("__main__"), "__file__", None)


def _reimported(main: object) -> bool:
    """Whether a spawned process runs ``main``'s code again (as multiprocessing decides it)."""
    name = getattr(getattr(main, "__spec__", None), "name", None)
    if name is not None:
        return name != "__main__" and not name.endswith(".__main__")
    path = getattr(main, "__file__", None)
    return path is not None and os.path.splitext(os.path.basename(path))[0] != "ipython"


def _top_level_frame(main_globals: dict[str, object]) -> FrameType | None:
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals is main_globals and frame.f_code.co_name == "<module>":
            return frame
        frame = frame.f_back
    return None


def _guarded(path: str, line: int) -> bool:
    """Whether ``line`` of ``path`` is inside an ``if __name__ == "__main__":`` block
    (``True`` when the source cannot be read: never refuse on a guess)."""
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
    except (OSError, SyntaxError, ValueError):
        return True
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_main_test(node.test):
            first, last = node.body[0].lineno, node.body[-1].end_lineno or node.body[-1].lineno
            if first <= line <= last:
                return True
    return False


def _is_main_test(test: ast.expr) -> bool:
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s.id for s in sides if isinstance(s, ast.Name)]
    consts = [s.value for s in sides if isinstance(s, ast.Constant)]
    return names == ["__name__"] and consts == ["__main__"]


def _message(path: str, line: int | None) -> str:
    where = f"{os.path.basename(path)} line {line}" if line else os.path.basename(path)
    return (
        f"mode='distributed' starts a Dask LocalCluster whose worker processes re-import "
        f"{os.path.basename(path)}, and {where} runs the pipeline at import time, so every worker "
        'would start a cluster of its own. Put the code that runs it under `if __name__ == "__main__":` '
        "at the end of the script (or use DaskConfig(address=...) of a running scheduler, "
        "or DaskConfig(processes=False))"
    )
