"""The ``%glacier`` line magic: one command with subcommands (``%glacier help`` lists them).

Each subcommand's options come from an IPython ``magic_arguments`` parser, so
``%glacier SUBCOMMAND --help`` documents itself. A mistake in how the magic was typed
raises ``UsageError`` with one readable line (a misspelt name gets a "did you mean");
a run whose task fails raises :class:`RunFailed`, shown as the one-line ``PipelineError``
message. ``--param`` values are read by :mod:`glacier.cli.params`, as ``glacier run`` reads
them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from glacier.cli import errors as cli_errors
from glacier.cli.errors import did_you_mean
from glacier.cli.params import PARAM_HELP, check_mode, parse_params
from glacier.clouds import CLOUDS
from glacier.display.protocol import Displayable, mimebundle
from glacier.errors import PipelineError
from glacier_jupyter.bridge import in_kernel
from glacier_jupyter.formatters import widget_bundle
from glacier_jupyter.namespace import (
    kind_of,
    lookup,
    lookup_pipeline,
    lookup_previewable,
    providers_in,
    task_hint,
)

__all__ = ["GlacierMagics", "Rendered", "RunFailed", "SUBCOMMANDS"]


class Rendered(Displayable):
    """A ready display bundle: what a subcommand returns so the cell shows it."""

    def __init__(self, bundle: dict[str, Any]) -> None:
        self.bundle = bundle

    def _bundle_(self) -> dict[str, Any]:
        return self.bundle

    def __repr__(self) -> str:
        return str(self.bundle.get("text/plain", ""))


class RunFailed(PipelineError):
    """A run (or preview) started by ``%glacier`` failed in a task: not a usage mistake.

    IPython shows it as one line, ``PipelineError: <message>``, without the magic's frames
    (``_render_traceback_``); ``record`` is the failed run's record.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"PipelineError: {self}"]


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
    pipeline = lookup_pipeline(magics.ns, args.pipeline)
    try:
        _ = pipeline.graph  # traced first: a pipeline that cannot be traced is a usage error
    except Exception as exc:
        raise UsageError(f"cannot trace pipeline {args.pipeline}: {_one_line(exc)}") from None
    if not args.static and in_kernel(magics.shell):
        merged = widget_bundle(pipeline)  # the widget, with the static picture as fallback
        if merged is not None:
            return Rendered(merged)
    return Rendered(mimebundle(pipeline))


@magic_arguments(name="glacier resources")
@argument("providers", nargs="*", help="providers to show (default: every Provider in this notebook)")
@argument("--static", action="store_true", help="static HTML even where the interactive widget works")
def _resources(magics: GlacierMagics, args: Any) -> Any:
    """Show providers with their storage (buckets) and execution resources (executors, tasks)."""
    from glacier import Provider

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
@argument("--mode", default="local", help="local (this process, the default) or distributed")
@argument("--param", "-p", action="append", metavar="KEY=VALUE", help=PARAM_HELP)
@argument("--emulate", action="store_true", help="run serverless tasks under their memory and timeout limits")
def _run(magics: GlacierMagics, args: Any) -> Any:
    """Run a pipeline with live per-task status; returns what the pipeline returns."""
    import polars as pl

    from glacier.errors import GlacierError

    pipeline = lookup_pipeline(magics.ns, args.pipeline)
    check_mode(args.mode)
    params = parse_params(pipeline, args.param)
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
        where = f" (see {args.pipeline}.last_run)" if started and exc.record is pipeline.last_run else ""
        raise RunFailed(_one_line(exc) + where, exc.record) from None
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
    elif not in_kernel(magics.shell) and pipeline.last_run is not None:
        print(pipeline.last_run.summary())
    from glacier_jupyter.live import value_is_shown

    if isinstance(result, pl.LazyFrame) and value_is_shown("run"):
        return result.collect()  # shown as the result's table, not as polars' query plan
    return result


@magic_arguments(name="glacier preview")
@argument(
    "expr",
    nargs="+",
    help="a LazyFrame or DataFrame, a bucket, PIPELINE.TASK (a task's output) or a pipeline",
)
@argument("-n", type=int, default=10, help="how many rows (default 10)")
@argument("--param", "-p", action="append", metavar="KEY=VALUE", help=PARAM_HELP)
def _preview(magics: GlacierMagics, args: Any) -> Any:
    """First rows and the schema; for PIPELINE.TASK only that task and its upstream tasks run."""
    import polars as pl

    from glacier import Pipeline
    from glacier.errors import GlacierError
    from glacier.preview import preview
    from glacier.task import Task

    if args.n < 0:
        raise UsageError(f"-n must be 0 or more, not {args.n}")
    expr = " ".join(args.expr)
    obj = lookup_previewable(magics.ns, expr)
    if isinstance(obj, Task):
        raise UsageError(task_hint(magics.ns, obj, expr))
    pipeline = obj if isinstance(obj, Pipeline) else getattr(obj, "pipeline", None)
    if args.param and not isinstance(pipeline, Pipeline):
        raise UsageError(f"--param sets a pipeline's parameters: {expr} is {kind_of(obj)}, not PIPELINE.TASK")
    params = parse_params(pipeline, args.param) if args.param else {}
    try:
        return preview(obj, n=args.n, **params)
    except PipelineError as exc:
        raise RunFailed(_one_line(exc), exc.record) from None
    except pl.exceptions.PolarsError as exc:
        raise RunFailed(f"preview of {expr} failed: {type(exc).__name__}: {_one_line(exc)}") from None
    except GlacierError as exc:
        raise UsageError(_one_line(exc)) from None


@magic_arguments(name="glacier export module")
@argument("path", help="the module to write, for example etl.py")
@argument("--notebook", help="the notebook to export (default: the one this kernel runs)")
@argument("--pipeline", help="the pipeline `python PATH` runs (default: the one run last)")
def _export_module(magics: GlacierMagics, args: Any) -> Any:
    """Write this notebook as a pipeline module (save the notebook first)."""
    from glacier.errors import GlacierError
    from glacier.export import export_notebook

    notebook = _unquote(args.notebook) if args.notebook else _this_notebook(magics.ns)
    if notebook is None:
        raise UsageError("cannot tell which notebook this kernel runs: pass --notebook PATH.ipynb")
    if not Path(notebook).is_file():
        nearby = [p.name for p in Path(notebook).parent.glob("*.ipynb")]
        raise UsageError(
            f"notebook {notebook!r} not found: save it first or pass --notebook PATH.ipynb"
            + did_you_mean(Path(notebook).name, nearby)
        )
    target = _unquote(args.path)
    try:
        export_notebook(notebook, target, pipeline=args.pipeline)
    except (GlacierError, OSError, ValueError) as exc:
        raise UsageError(_one_line(exc)) from None
    return Rendered({"text/plain": f"exported {notebook} -> {target}"})


@magic_arguments(name="glacier export terraform")
@argument("pipeline", help="a pipeline in this notebook")
@argument("dir", help="the folder to write main.tf, variables.tf and outputs.tf into")
@argument("--cloud", choices=CLOUDS, help="the cloud (default: the provider's)")
def _export_terraform(magics: GlacierMagics, args: Any) -> Any:
    """Write the pipeline's infrastructure as Terraform files."""
    from glacier.errors import GlacierError
    from glacier.terraform import export

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
@argument("subcommand", nargs="*", help="a subcommand to explain (default: all of them, briefly)")
def _help(magics: GlacierMagics, args: Any) -> Any:
    """Show what %glacier can do."""
    key = " ".join(args.subcommand)
    if not key:
        print(OVERVIEW)
    elif key == "export":
        print(_EXPORT_HELP)
    elif key in SUBCOMMANDS:
        print(options_help(key))
    else:
        raise UsageError(_unknown(key))


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


SUBCOMMANDS: dict[str, Any] = {
    "dag": _dag,
    "resources": _resources,
    "run": _run,
    "preview": _preview,
    "export module": _export_module,
    "export terraform": _export_terraform,
    "help": _help,
}
OVERVIEW = f"""\
%glacier: Glacier in a notebook.
  %glacier dag PIPELINE                 draw the DAG (interactive widget, or a static SVG)
  %glacier resources [PROVIDER ...]     storage and execution resources
  %glacier run PIPELINE [--mode local|distributed] [--param KEY=VALUE ...] [--emulate]
                                        run with live per-task status
  %glacier preview EXPR [-n N] [--param KEY=VALUE ...]
                                        first rows and schema, running only what is needed
  %glacier export module PATH [--notebook NB] [--pipeline NAME]
                                        this notebook as a pipeline module
  %glacier export terraform PIPELINE DIR [--cloud {"|".join(CLOUDS)}]
                                        the pipeline's infrastructure as Terraform
  %glacier help [SUBCOMMAND]            this text, or one subcommand's options
--param values are converted by the pipeline's annotations, as `glacier run --param` does."""
_NAMES = ("dag", "resources", "run", "preview", "export", "help")


def options_help(key: str) -> str:
    """One subcommand's usage and options (argparse's text, without its reST ``::``)."""
    text = SUBCOMMANDS[key].parser.format_help()
    return "usage: " + text.removeprefix("::\n\n  ").rstrip()


def _unknown(word: str) -> str:
    return f"unknown %glacier subcommand {word!r}: use one of {', '.join(_NAMES)}" + (
        did_you_mean(word, _NAMES) or " (see %glacier help)"
    )


_EXPORT_HELP = options_help("export module") + "\n\n" + options_help("export terraform")


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
            print(options_help(word))
            return None
        args = fn.parser.parse_argstring(rest)
        try:
            return fn(self, args)
        except cli_errors.UsageError as exc:  # a --param or --mode mistake, worded as the CLI words it
            raise UsageError(str(exc)) from None


GlacierMagics.glacier.__doc__ = OVERVIEW
