"""Finding the pipeline that ``MODULE[:PIPELINE]`` names on the command line."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from glacier.cli.errors import UsageError, did_you_mean

__all__ = ["load_pipeline"]


def load_pipeline(target: str) -> Any:
    """The :class:`~glacier.Pipeline` that ``MODULE[:PIPELINE]`` names.

    ``MODULE`` is a dotted module name (found from the current folder, as with
    ``python -m``) or a path to a ``.py`` file. ``PIPELINE`` is the pipeline's Python name
    or its ``name=``; it may be left out when the module defines exactly one pipeline.
    """
    from glacier import Pipeline

    ref, attr = _split_target(target)
    module = _import_module(ref)
    found = {k: v for k, v in vars(module).items() if isinstance(v, Pipeline) and not k.startswith("_")}
    listing = ", ".join(k if p.name == k else f"{k} ({p.name})" for k, p in found.items()) or "(none)"
    if attr is None:
        if len(found) == 1:
            return next(iter(found.values()))
        if not found:
            raise UsageError(
                f"module {ref} defines no pipeline: decorate a function with @pipeline(name=...)"
            )
        raise UsageError(
            f"module {ref} defines several pipelines ({listing}): name one, as in {ref}:{next(iter(found))}"
        )
    obj = getattr(module, attr, None)
    if isinstance(obj, Pipeline):
        return obj
    by_name = [p for p in found.values() if p.name == attr]
    if by_name:
        return by_name[0]
    if obj is None:
        names = [*found, *(p.name for p in found.values())]
        raise UsageError(
            f"module {ref} has no pipeline {attr!r}; its pipelines are: {listing}" + did_you_mean(attr, names)
        )
    raise UsageError(
        f"{ref}:{attr} is a {type(obj).__name__}, not a pipeline: give a function decorated with "
        f"@pipeline(name=...)" + (f" (this module's pipelines: {listing})" if found else "")
    )


def _split_target(target: str) -> tuple[str, str | None]:
    ref, sep, attr = target.rpartition(":")
    if not sep or not ref or any(c in attr for c in "/\\") or attr.endswith(".py"):
        return target, None  # no pipeline given (or a Windows drive letter)
    return ref, attr or None


def _import_module(ref: str) -> Any:
    if ref.endswith(".py") or "/" in ref or os.sep in ref:
        path = Path(ref)
        if not path.is_file():
            raise UsageError(f"no such file: {ref}")
        return _import_file(path.resolve())
    if not all(part.isidentifier() for part in ref.split(".")):
        raise UsageError(f"{ref!r} is neither a dotted module name nor a path to a .py file")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(ref)
    except ModuleNotFoundError as exc:
        if exc.name and (ref == exc.name or ref.startswith(exc.name + ".")):
            raise UsageError(
                f"cannot import module {ref!r}: no module named {exc.name!r} "
                "(give a dotted module name importable from here, or a path to a .py file)"
            ) from exc
        raise UsageError(f"importing {ref} failed: {exc}") from exc
    except Exception as exc:
        raise UsageError(f"importing {ref} failed: {type(exc).__name__}: {exc}") from exc


def _import_file(path: Path) -> Any:
    folder = str(path.parent)
    if folder not in sys.path:  # so the module's own imports and Dask workers find it
        sys.path.insert(0, folder)
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (folder, os.environ.get("PYTHONPATH")) if p)
    name = path.stem if path.stem.isidentifier() else "_glacier_module"
    existing = sys.modules.get(name)
    if existing is not None:
        if Path(getattr(existing, "__file__", "") or "").resolve() == path:
            return existing
        name = f"_glacier_module_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"{path.name} is not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(name, None)
        raise UsageError(f"importing {path.name} failed: {type(exc).__name__}: {exc}") from exc
    return module
