"""The ``%glacier`` line magic: one command with subcommands.

::

    %glacier dag PIPELINE                 the DAG (interactive widget, or a static SVG)
    %glacier resources [PROVIDER ...]     storage and execution resources
    %glacier run PIPELINE [--mode local] [--param k=v ...]   run with live status
    %glacier preview EXPR [-n 10]         first rows and schema, running only what is needed
    %glacier export module PATH           this notebook as a pipeline module
    %glacier export terraform PIPELINE DIR [--cloud aws|gcp|azure]
    %glacier help [SUBCOMMAND]

Each subcommand's options come from an IPython ``magic_arguments`` parser, so
``%glacier?`` and ``%glacier SUBCOMMAND --help`` document themselves. A user mistake
raises ``UsageError`` with one readable line.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from glacier_jupyter.bridge import in_kernel
from glacier_jupyter.formatters import widget_bundle
from glacier_jupyter.namespace import (
    kind_of,
    lookup,
    lookup_pipeline,
    lookup_previewable,
    parse_params,
    providers_in,
    task_hint,
)

__all__ = ["GlacierMagics", "Rendered", "SUBCOMMANDS"]


class Rendered:
    """A ready display bundle: what a subcommand returns so the cell shows it."""

    def __init__(self, bundle: dict[str, Any]) -> None:
        self.bundle = bundle

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return self.bundle

    def __repr__(self) -> str:
        return str(self.bundle.get("text/plain", ""))


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# -- subcommands ---------------------------------------------------------------------------


@magic_arguments(name="glacier dag")
@argument("pipeline", help="a pipeline in this notebook (made with @pipeline(name=...))")
@argument("--static", action="store_true", help="draw the static SVG even where the interactive widget works")
def _dag(magics: GlacierMagics, args: Any) -> Any:
    """Show a pipeline's DAG: its tasks, coloured by executor, and the buckets they use."""
    from glacier.display.dag import graph_bundle

    shell = magics.shell
    pipeline = lookup_pipeline(magics.ns, args.pipeline)
    try:
        graph = pipeline.graph
    except Exception as exc:
        raise UsageError(f"cannot trace pipeline {args.pipeline}: {_one_line(exc)}") from None
    if not args.static and in_kernel(shell):
        merged = widget_bundle(pipeline)  # the widget, with the static picture as fallback
        if merged is not None:
            return Rendered(merged)
    return Rendered(
        graph_bundle(graph, title=repr(pipeline), description=pipeline.description, record=pipeline.last_run)
    )


@magic_arguments(name="glacier resources")
@argument("providers", nargs="*", help="providers to show (default: every Provider in this notebook)")
@argument("--static", action="store_true", help="static HTML even where the interactive widget works")
def _resources(magics: GlacierMagics, args: Any) -> Any:
    """Show providers with their storage (buckets) and execution resources (executors, tasks)."""
    from glacier.display import mimebundle
    from glacier.provider import Provider

    if args.providers:
        found = []
        for name in args.providers:
            obj = lookup(magics.ns, name)
            if not isinstance(obj, Provider):
                raise UsageError(
                    f"{name} is {kind_of(obj)}, not a provider: make one with Provider(config=...)"
                )
            found.append((name, obj))
    else:
        found = providers_in(magics.ns)
        if not found:
            raise UsageError("no Provider in this notebook yet: create one with Provider(config=...)")
    merged = [] if args.static or not in_kernel(magics.shell) else [widget_bundle(p) for _, p in found]
    if merged and all(b is not None for b in merged):
        from IPython.display import display

        for bundle in merged[:-1]:
            display(bundle, raw=True)
        return Rendered(merged[-1])  # type: ignore[arg-type]
    bundles = [(name, mimebundle(provider)) for name, provider in found]
    if len(bundles) == 1:
        return Rendered(bundles[0][1])
    text = "\n\n".join(f"{name} = {b['text/plain']}" for name, b in bundles)
    html = "".join(b["text/html"] for _, b in bundles)
    return Rendered({"text/plain": text, "text/html": html})


@magic_arguments(name="glacier run")
@argument("pipeline", help="a pipeline in this notebook")
@argument("--mode", default="local", help="'local' (this process, the default) or 'distributed'")
@argument(
    "--param",
    "-p",
    action="append",
    metavar="KEY=VALUE",
    help="a pipeline parameter (repeatable); values are read as Python literals, else strings",
)
@argument("--emulate", action="store_true", help="run serverless tasks under their memory and timeout limits")
def _run(magics: GlacierMagics, args: Any) -> Any:
    """Run a pipeline with live per-task status; returns what the pipeline returns."""
    import polars as pl

    from glacier.errors import GlacierError, PipelineError
    from glacier.pipeline import MODES

    pipeline = lookup_pipeline(magics.ns, args.pipeline)
    if args.mode not in MODES:
        raise UsageError(f"--mode {args.mode!r} is not a run mode: use one of {', '.join(MODES)}")
    params = parse_params(args.param)
    try:
        graph = pipeline.trace(**params)
    except GlacierError as exc:
        raise UsageError(_one_line(exc)) from None
    live = None
    progress: bool | None = None
    if in_kernel(magics.shell):
        from glacier_jupyter.live import RunDisplay

        progress = False
        live = RunDisplay(pipeline, graph)  # the DAG of this run, live, then kept
    try:
        result = pipeline.run(
            mode=args.mode,
            progress=progress,
            on_event=live.on_event if live else None,
            emulate=args.emulate,
            **params,
        )
    except PipelineError as exc:
        started = exc.record is not None and any(t.status != "pending" for t in exc.record.tasks.values())
        if live is not None and started:
            live.finish(exc.record)
        elif live is not None:
            live.fail(_one_line(exc))
        hint = (
            f" (see {args.pipeline}.last_run; {args.pipeline}.run() shows the traceback)" if started else ""
        )
        raise UsageError(f"{_one_line(exc)}{hint}") from None
    except GlacierError as exc:
        if live is not None:
            live.fail(_one_line(exc))
        raise UsageError(_one_line(exc)) from None
    except BaseException:
        if live is not None:
            live.finish(pipeline.last_run)
        raise
    if live is not None:
        live.finish(pipeline.last_run)
        from glacier_jupyter.live import value_is_shown

        if isinstance(result, pl.LazyFrame) and value_is_shown("run"):
            return result.collect()  # the result's table, not polars' query plan
    elif not in_kernel(magics.shell) and pipeline.last_run is not None:
        print(pipeline.last_run.summary())
    return result


@magic_arguments(name="glacier preview")
@argument(
    "expr",
    nargs="+",
    help="a LazyFrame or DataFrame, a bucket, PIPELINE.TASK (a task's output) or a pipeline",
)
@argument("-n", type=int, default=10, help="how many rows (default 10)")
@argument("--param", "-p", action="append", metavar="KEY=VALUE", help="a pipeline parameter (repeatable)")
def _preview(magics: GlacierMagics, args: Any) -> Any:
    """First rows and the schema; for PIPELINE.TASK only that task and its upstream tasks run."""
    import polars as pl

    from glacier.errors import GlacierError
    from glacier.preview import preview

    if args.n < 0:
        raise UsageError(f"-n must be 0 or more, not {args.n}")
    expr = " ".join(args.expr)
    obj = lookup_previewable(magics.ns, expr)
    if type(obj).__name__ == "Task" and type(obj).__module__ == "glacier.task":
        raise UsageError(task_hint(magics.ns, obj, expr))
    params = parse_params(args.param)
    try:
        return preview(obj, n=args.n, **params)
    except (GlacierError, pl.exceptions.PolarsError) as exc:
        prefix = "" if isinstance(exc, GlacierError) else f"preview of {expr} failed: {type(exc).__name__}: "
        raise UsageError(prefix + _one_line(exc)) from None


@magic_arguments(name="glacier export module")
@argument("path", help="the module to write, for example etl.py")
@argument("--notebook", help="the notebook to export (default: the one this kernel runs)")
@argument("--pipeline", help="the pipeline `python PATH` runs (default: the one run last)")
def _export_module(magics: GlacierMagics, args: Any) -> Any:
    """Write this notebook as a pipeline module (save the notebook first)."""
    try:
        from glacier.export import export_notebook
    except ImportError:
        raise UsageError("exporting a notebook needs glacier.export, which this installation lacks") from None
    from glacier.errors import GlacierError

    notebook = _unquote(args.notebook) if args.notebook else _this_notebook(magics.ns)
    if notebook is None:
        raise UsageError("cannot tell which notebook this kernel runs: pass --notebook PATH.ipynb")
    if not Path(notebook).is_file():
        raise UsageError(f"notebook {notebook!r} not found: save it first or pass --notebook PATH.ipynb")
    target = _unquote(args.path)
    kwargs = _accepted(export_notebook, pipeline=args.pipeline)
    try:
        written = export_notebook(notebook, target, **kwargs)
    except (GlacierError, OSError, ValueError) as exc:
        raise UsageError(_one_line(exc)) from None
    del written  # the module's text; the file is at ``target``
    return Rendered({"text/plain": f"exported {notebook} -> {target}"})


@magic_arguments(name="glacier export terraform")
@argument("pipeline", help="a pipeline in this notebook")
@argument("dir", help="the folder to write main.tf, variables.tf and outputs.tf into")
@argument("--cloud", choices=("aws", "gcp", "azure"), help="the cloud (default: the provider's)")
def _export_terraform(magics: GlacierMagics, args: Any) -> Any:
    """Write the pipeline's infrastructure as Terraform files."""
    try:
        from glacier.terraform import export
    except ImportError:
        raise UsageError("Terraform export needs glacier.terraform, which this installation lacks") from None
    from glacier.errors import GlacierError

    pipeline = lookup_pipeline(magics.ns, args.pipeline)
    out_dir = _unquote(args.dir)
    try:
        written = export(pipeline, out_dir, cloud=args.cloud)
    except (GlacierError, OSError, ValueError) as exc:
        raise UsageError(_one_line(exc)) from None
    files = sorted(str(p) for p in written) if isinstance(written, (list, tuple, dict)) else []
    if not files:
        files = sorted(str(p) for p in Path(out_dir).glob("*.tf"))
    return Rendered({"text/plain": f"wrote Terraform for {pipeline.name} to {out_dir}: " + ", ".join(files)})


@magic_arguments(name="glacier help")
@argument("subcommand", nargs="?", help="a subcommand to explain")
def _help(magics: GlacierMagics, args: Any) -> Any:
    """Show what %glacier can do."""
    if args.subcommand is None:
        print(full_help())
        return None
    key = args.subcommand
    if key == "export":
        print(_EXPORT_HELP)
        return None
    if key not in SUBCOMMANDS:
        raise UsageError(_unknown(key))
    print(SUBCOMMANDS[key].parser.format_help())
    return None


def _this_notebook(ns: dict[str, Any]) -> str | None:
    """The notebook this kernel runs, where the frontend says (VS Code, Jupyter server)."""
    found = None
    for value in (ns.get("__vsc_ipynb_file__"), ns.get("__session__"), os.environ.get("JPY_SESSION_NAME")):
        if isinstance(value, str) and value.endswith(".ipynb"):
            # Jupyter names the session by the path from the server's root; the kernel
            # runs in the notebook's folder, so the file name alone is what is found here.
            for candidate in (value, Path(value).name):
                if Path(candidate).is_file():
                    return candidate
            found = found or value
    return found


def _accepted(fn: Callable[..., Any], **candidates: Any) -> dict[str, Any]:
    """Keyword arguments ``fn`` accepts, among those that are set."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return {}
    var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    return {k: v for k, v in candidates.items() if v is not None and (var_kw or k in params)}


SUBCOMMANDS: dict[str, Any] = {
    "dag": _dag,
    "resources": _resources,
    "run": _run,
    "preview": _preview,
    "export module": _export_module,
    "export terraform": _export_terraform,
    "help": _help,
}
OVERVIEW = """\
  %glacier dag PIPELINE                 the DAG (interactive widget, or a static SVG)
  %glacier resources [PROVIDER ...]     storage and execution resources
  %glacier run PIPELINE [--mode local] [--param k=v ...]   run with live status
  %glacier preview EXPR [-n 10]         first rows and schema, running only what is needed
  %glacier export module PATH           this notebook as a pipeline module
  %glacier export terraform PIPELINE DIR [--cloud aws|gcp|azure]
  %glacier help [SUBCOMMAND]"""
_NAMES = ("dag", "resources", "run", "preview", "export", "help")
_EXPORT_HELP = (
    "%glacier export module PATH [--notebook NB] [--pipeline NAME]\n"
    "%glacier export terraform PIPELINE DIR [--cloud aws|gcp|azure]\n\n"
    "Use `%glacier export module --help` or `%glacier export terraform --help` for details."
)


def _unknown(word: str) -> str:
    return f"unknown %glacier subcommand {word!r}: use one of {', '.join(_NAMES)} (see %glacier help)"


def full_help() -> str:
    """The text of ``%glacier?``: an overview, then every subcommand's options."""
    parts = ["Glacier's notebook command. Subcommands:", OVERVIEW]
    for fn in SUBCOMMANDS.values():
        parts.append(fn.parser.format_help().rstrip())
    return "\n\n".join(parts)


@magics_class
class GlacierMagics(Magics):
    """Holds the ``%glacier`` line magic."""

    @property
    def ns(self) -> dict[str, Any]:
        return self.shell.user_ns

    @line_magic
    def glacier(self, line: str = "") -> Any:
        argv = line.split()
        if not argv:
            raise UsageError(f"%glacier needs a subcommand: {', '.join(_NAMES)} (see %glacier help)")
        word = argv[0]
        rest = line.strip()[len(word) :]
        if word == "export":
            if len(argv) < 2 or argv[1] not in ("module", "terraform"):
                got = f" {argv[1]!r}" if len(argv) > 1 else ""
                raise UsageError(
                    f"%glacier export{got}: use `export module PATH` or `export terraform PIPELINE DIR`"
                )
            word = f"export {argv[1]}"
            rest = rest.strip()[len(argv[1]) :]
        if word in ("-h", "--help"):
            word, rest = "help", ""
        fn = SUBCOMMANDS.get(word)
        if fn is None:
            raise UsageError(_unknown(word))
        if word != "help" and ({"-h", "--help"} & set(rest.split())):
            print(fn.parser.format_help())
            return None
        args = fn.parser.parse_argstring(rest)
        return fn(self, args)


GlacierMagics.glacier.__doc__ = full_help()
