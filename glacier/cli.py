"""The ``glacier`` command line: ``run``, ``dag``, ``terraform`` and ``export``.

::

    glacier run MODULE:PIPELINE [--mode local|distributed] [--param k=v ...]
    glacier dag MODULE:PIPELINE [--html out.html | --svg out.svg]
    glacier terraform MODULE:PIPELINE --out DIR [--cloud aws|gcp|azure]
    glacier export NOTEBOOK.ipynb [-o MODULE.py] [--check] [--pipeline NAME]

``MODULE`` is a dotted module name (found from the current folder, as with ``python -m``)
or a path to a ``.py`` file. A user mistake prints one line on stderr and exits with 1;
``-v`` shows the traceback. This module imports only the standard library at import time,
so that ``glacier --help`` starts fast: everything else is imported by the subcommand.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where used: `glacier --help` imports as little as it can
    import inspect
    from collections.abc import Sequence
    from pathlib import Path

__all__ = ["main", "build_parser", "UsageError", "load_pipeline", "parse_params"]

_MODES = ("local", "distributed")
_CLOUDS = ("aws", "gcp", "azure")


class UsageError(Exception):
    """A mistake in how ``glacier`` was called: shown as one line, exit code 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse prints usage and exits 2; we want one line, 1
        raise UsageError(f"{message} (see `{self.prog} --help`)")


# -- the parser ------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``glacier`` (cheap: nothing heavy is imported)."""
    from glacier import __version__

    verbose = _Parser(add_help=False)
    verbose.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="show tracebacks of errors"
    )
    parser = _Parser(
        prog="glacier",
        description="Glacier: cloud-agnostic data pipelines, from notebook to production.",
        epilog="Run `glacier COMMAND --help` for the options of each command.",
    )
    parser.add_argument("--version", action="version", version=f"glacier {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", default=False, help="show tracebacks of errors"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    target_help = "MODULE:PIPELINE, MODULE a dotted module name or a path to a .py file"
    run = sub.add_parser(
        "run",
        parents=[verbose],
        help="run a pipeline with a progress bar and print a summary table",
        description="Run a pipeline of a module, show a progress bar, print a per-task summary.",
    )
    run.add_argument("target", metavar="MODULE:PIPELINE", help=target_help)
    run.add_argument("--mode", choices=_MODES, default="local", help="where tasks run (default: local)")
    run.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a pipeline parameter (repeatable); the value is converted to the parameter's type",
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--show", type=int, default=0, metavar="N", help="print the first N rows of the result")
    run.set_defaults(handler=_cmd_run)

    dag = sub.add_parser(
        "dag",
        parents=[verbose],
        help="write a pipeline's DAG as SVG or HTML (or print it as text)",
        description="Draw the DAG of a pipeline, traced without running any task.",
    )
    dag.add_argument("target", metavar="MODULE:PIPELINE", help=target_help)
    where = dag.add_mutually_exclusive_group()
    where.add_argument("--html", metavar="FILE", help="write a standalone HTML page")
    where.add_argument("--svg", metavar="FILE", help="write an SVG picture")
    dag.set_defaults(handler=_cmd_dag)

    tf = sub.add_parser(
        "terraform",
        parents=[verbose],
        help="write the Terraform that deploys a pipeline",
        description="Generate Terraform (main.tf, variables.tf, outputs.tf) for a pipeline.",
    )
    tf.add_argument("target", metavar="MODULE:PIPELINE", help=target_help)
    tf.add_argument("--out", "-o", required=True, metavar="DIR", help="folder to write the .tf files to")
    tf.add_argument("--cloud", choices=_CLOUDS, help="re-target to this cloud (default: the provider's)")
    tf.set_defaults(handler=_cmd_terraform)

    ex = sub.add_parser(
        "export",
        parents=[verbose],
        help="export a notebook to a pipeline module (or check that it is up to date)",
        description=(
            "Export a notebook to a pipeline module: imports, provider, resources, tasks and "
            "pipelines in notebook order; magics, previews and runs left out; the last run "
            "becomes the `if __name__ == '__main__':` block. With --check nothing is written: "
            "exit 1 and print a diff when MODULE is not what the notebook exports today."
        ),
    )
    ex.add_argument("notebook", metavar="NOTEBOOK.ipynb", help="the notebook to export")
    ex.add_argument("-o", "--out", metavar="MODULE.py", help="where to write the module (default: stdout)")
    ex.add_argument("--check", action="store_true", help="compare with --out instead of writing it")
    ex.add_argument(
        "--pipeline", metavar="NAME", help="the pipeline `python MODULE.py` runs (default: last run)"
    )
    ex.set_defaults(handler=_cmd_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``glacier`` console script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = any(a in ("-v", "--verbose") for a in argv)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        verbose = bool(getattr(args, "verbose", False))
        handler = getattr(args, "handler", None)
        if handler is None:
            parser.print_help(sys.stderr)
            return 1
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        print("glacier: interrupted", file=sys.stderr)
        return 130
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    except Exception as exc:
        if verbose:
            import traceback

            traceback.print_exc()
        hint = (
            ""
            if verbose or isinstance(exc, UsageError) or not _is_internal(exc)
            else " (-v shows the traceback)"
        )
        print(f"glacier: error: {_one_line(exc)}{hint}", file=sys.stderr)
        return 1


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    if not isinstance(exc, UsageError) and not _is_glacier_error(exc):
        text = f"{type(exc).__name__}: {text}"
    return " ".join(text.split())


def _is_glacier_error(exc: BaseException) -> bool:
    errors = sys.modules.get("glacier.errors")
    return errors is not None and isinstance(exc, errors.GlacierError)


def _is_internal(exc: BaseException) -> bool:
    return not _is_glacier_error(exc)


# -- loading MODULE:PIPELINE -----------------------------------------------------------------
def _split_target(target: str) -> tuple[str, str | None]:
    ref, sep, attr = target.rpartition(":")
    if not sep or not ref or any(c in attr for c in "/\\") or attr.endswith(".py"):
        return target, None  # no pipeline given (or a Windows drive letter)
    return ref, attr or None


def _import_module(ref: str) -> Any:
    from pathlib import Path

    looks_like_path = ref.endswith(".py") or "/" in ref or os.sep in ref
    if looks_like_path:
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
    import importlib.util
    from pathlib import Path

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


def load_pipeline(target: str) -> Any:
    """The :class:`~glacier.Pipeline` that ``MODULE[:PIPELINE]`` names.

    ``PIPELINE`` is the pipeline's Python name or its ``name=``; it may be left out when the
    module defines exactly one pipeline.
    """
    from glacier.pipelines import Pipeline

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
        raise UsageError(f"module {ref} has no pipeline {attr!r}; its pipelines are: {listing}")
    raise UsageError(
        f"{ref}:{attr} is a {type(obj).__name__}, not a pipeline: give a function decorated with "
        f"@pipeline(name=...)" + (f" (this module's pipelines: {listing})" if found else "")
    )


# -- parameters ------------------------------------------------------------------------------
_TRUE = {"1", "true", "yes", "on", "y"}
_FALSE = {"0", "false", "no", "off", "n"}


def parse_params(pipe: Any, items: Sequence[str]) -> dict[str, Any]:
    """``["day=2024-02-01", "n=3"]`` as keyword arguments for ``pipe``, converted to the
    parameters' types (from their annotation, else from their default)."""
    import inspect

    params = pipe.signature.parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    names = [n for n, p in params.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--param takes KEY=VALUE, not {item!r}")
        if key not in names and not takes_any:
            known = ", ".join(names) or "none"
            raise UsageError(f"pipeline {pipe.name!r} has no parameter {key!r}; its parameters are: {known}")
        out[key] = _convert(pipe, params.get(key), key, raw)
    return out


def _convert(pipe: Any, param: inspect.Parameter | None, key: str, raw: str) -> Any:
    kind = _param_type(param)
    try:
        if kind is bool:
            low = raw.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError(raw)
        if kind in (int, float):
            return kind(raw)
        if kind is str:
            return raw
        if kind is not None and kind.__name__ in ("date", "datetime"):
            return kind.fromisoformat(raw)
    except ValueError:
        name = getattr(kind, "__name__", str(kind))
        raise UsageError(
            f"--param {key}={raw}: {raw!r} is not a valid {name} (parameter {key!r} of pipeline {pipe.name!r})"
        ) from None
    import json

    try:  # no type known: a JSON literal if it is one (3, 1.5, true, [1, 2]), else the text
        return json.loads(raw)
    except ValueError:
        return raw


def _param_type(param: inspect.Parameter | None) -> Any:
    import inspect

    if param is None:
        return None
    ann = param.annotation
    if isinstance(ann, str):
        first = ann.replace(" ", "").split("|")[0].split("[")[0]
        import datetime

        ann = {"bool": bool, "int": int, "float": float, "str": str}.get(first) or {
            "date": datetime.date,
            "datetime": datetime.datetime,
        }.get(first.rsplit(".", 1)[-1], inspect.Parameter.empty)
    if isinstance(ann, type) and ann is not type(None):
        return ann
    default = param.default
    if default is not inspect.Parameter.empty and default is not None:
        return type(default) if type(default) in (bool, int, float, str) else None
    return None


# -- subcommands -----------------------------------------------------------------------------
def _cmd_run(args: argparse.Namespace) -> int:
    pipe = load_pipeline(args.target)
    params = parse_params(pipe, args.param)
    from glacier.errors import PipelineError

    progress = False if args.no_progress else None
    try:
        result = pipe.run(mode=args.mode, progress=progress, **params)
    except PipelineError as exc:
        if exc.record is not None and exc.record.tasks:
            print(exc.record.summary())
        raise
    finally:
        sys.stderr.flush()
    if pipe.last_run is not None:
        print(pipe.last_run.summary())
    if args.show:
        print(_preview(result, args.show))
    return 0


def _preview(result: Any, n: int) -> str:
    if hasattr(result, "collect") and hasattr(result, "head"):
        return str(result.head(n).collect())
    if hasattr(result, "head"):
        return str(result.head(n))
    return repr(result)


def _cmd_dag(args: argparse.Namespace) -> int:
    pipe = load_pipeline(args.target)
    graph = pipe.graph
    if not args.svg and not args.html:
        print(_dag_text(graph))
        return 0
    from pathlib import Path

    from glacier.export.dag import dag_html

    svg = _svg(pipe, graph)
    path = Path(args.svg or args.html)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(svg if args.svg else dag_html(graph, svg), encoding="utf-8")
    print(f"wrote {path}")
    return 0


def _svg(pipe: Any, graph: Any) -> str:
    """The SVG of :mod:`glacier.display` (the notebook's static DAG) when it offers one,
    else the exporter's own; made a standalone SVG document either way."""
    svg = None
    for module, name in (("glacier.display.dag", "dag_svg"), ("glacier.display", "dag_svg")):
        try:
            fn = getattr(importlib.import_module(module), name, None)
        except ImportError:
            continue
        if callable(fn):
            try:
                out = fn(graph)
            except (TypeError, AttributeError, ValueError):
                continue
            if isinstance(out, str) and "<svg" in out:
                svg = out
                break
    if svg is None:
        from glacier.export.dag import dag_svg

        svg = dag_svg(graph)
    if "xmlns=" not in svg.split(">", 1)[0]:
        svg = svg.replace("<svg", '<svg xmlns="http://www.w3.org/2000/svg"', 1)
    return svg if svg.endswith("\n") else svg + "\n"


def _dag_text(graph: Any) -> str:
    edges = len(graph.edges)
    lines = [f"pipeline {graph.name}: {len(graph.nodes)} tasks, {edges} edge{'s' if edges != 1 else ''}"]
    width = max((len(n) for n in graph.nodes), default=4)
    for nid, node in graph.nodes.items():
        ups = ", ".join(node.upstream)
        lines.append(f"  {nid:<{width}}  on {node.task.executor.name}" + (f"  <- {ups}" if ups else ""))
    return "\n".join(lines)


def _cmd_terraform(args: argparse.Namespace) -> int:
    pipe = load_pipeline(args.target)
    try:
        terraform = importlib.import_module("glacier.terraform")
    except ModuleNotFoundError as exc:
        raise UsageError(
            "Terraform export is not available in this installation (no glacier.terraform)"
        ) from exc
    export = getattr(terraform, "export", None)
    if export is None:
        raise UsageError(
            "Terraform export is not available in this installation (no glacier.terraform.export)"
        )
    paths = export(pipe, args.out, cloud=args.cloud)
    for path in paths or ():
        print(f"wrote {path}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    import warnings

    from glacier.export import ExportDriftError, export_notebook

    if args.check and not args.out:
        raise UsageError("--check compares the notebook with a module: give it with -o MODULE.py")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            text = export_notebook(args.notebook, args.out, pipeline=args.pipeline, check=args.check)
        except ExportDriftError as exc:
            sys.stdout.write(exc.diff)
            sys.stdout.flush()
            print(f"glacier: {exc}", file=sys.stderr)
            return 1
        finally:
            for w in caught:
                print(f"glacier: warning: {w.message}", file=sys.stderr)
    if args.check:
        print(f"{args.out} is up to date with {args.notebook}")
    elif args.out:
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
