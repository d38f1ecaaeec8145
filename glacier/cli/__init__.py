"""The ``glacier`` command line: ``run``, ``dag``, ``terraform`` and ``export``.

Usage::

    glacier run MODULE:PIPELINE [--mode local|distributed] [--param k=v ...]
    glacier dag MODULE:PIPELINE [--html out.html | --svg out.svg]
    glacier terraform MODULE:PIPELINE --out DIR [--cloud aws|gcp|azure] [--wheels DIR]
    glacier rehearse MODULE:PIPELINE [--cloud aws|gcp|azure] [--out DIR]
    glacier export NOTEBOOK.ipynb [-o MODULE.py] [--check] [--pipeline NAME]

``MODULE`` is a dotted module name (found from the current folder, as with ``python -m``)
or a path to a ``.py`` file. A user mistake prints one line on stderr and exits with 1;
``-v`` shows the traceback. Importing this package imports only the standard library and
:mod:`glacier.errors`, so that ``glacier --help`` starts fast; each subcommand imports what
it needs (:mod:`glacier.cli.commands`). ``--param`` values are read by
:mod:`glacier.cli.params`, which ``%glacier`` shares.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from glacier.cli import commands, deploy
from glacier.cli.errors import UsageError
from glacier.cli.load import load_pipeline
from glacier.cli.params import PARAM_HELP, parse_params
from glacier.clouds import CLOUDS
from glacier.errors import GlacierError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main", "build_parser", "UsageError", "load_pipeline", "parse_params"]

_TARGET_HELP = "MODULE:PIPELINE, MODULE a dotted module name or a path to a .py file"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse prints usage and exits 2; we want one line, 1
        raise UsageError(f"{message} (see `{self.prog} --help`)")


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

    def command(name: str, handler: Any, summary: str, description: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, parents=[verbose], help=summary, description=description)
        cmd.add_argument("target", metavar="MODULE:PIPELINE", help=_TARGET_HELP)
        cmd.set_defaults(handler=handler)
        return cmd

    run = command(
        "run",
        commands.run,
        "run a pipeline with a progress bar and print a summary table",
        "Run a pipeline of a module, show a progress bar, print a per-task summary.",
    )
    run.add_argument(
        "--mode", default="local", help="where tasks run: local (this process, the default) or distributed"
    )
    run.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE", help=PARAM_HELP)
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--show", type=int, default=0, metavar="N", help="print the first N rows of the result")

    dag = command(
        "dag",
        commands.dag,
        "write a pipeline's DAG as SVG or HTML (or print it as text)",
        "Draw the DAG of a pipeline, traced without running any task.",
    )
    where = dag.add_mutually_exclusive_group()
    where.add_argument("--html", metavar="FILE", help="write a standalone HTML page")
    where.add_argument("--svg", metavar="FILE", help="write an SVG picture")

    tf = command(
        "terraform",
        deploy.terraform,
        "write the Terraform that deploys a pipeline, and the packages it uploads",
        "Generate Terraform (main.tf, variables.tf, outputs.tf) for a pipeline, and build the "
        "function packages it uploads under OUT/build/ (pinned to this environment's versions).",
    )
    tf.add_argument("--out", "-o", required=True, metavar="DIR", help="folder to write the .tf files to")
    tf.add_argument("--cloud", choices=CLOUDS, help="re-target to this cloud (default: the provider's)")
    tf.add_argument("--no-packages", action="store_true", help="write the .tf files only")
    deploy.add_package_options(tf)

    reh = command(
        "rehearse",
        deploy.rehearse,
        "run the generated deployment locally and compare it with a local run",
        "Export and build the deployment, run its orchestrator's states with each task in an "
        "isolated process from its built package, against the storage the standard endpoint "
        "variables name; compare every output with run(mode='local'). The last line is "
        "'rehearsal passed' or 'rehearsal failed: REASON' (exit 0 or 1).",
    )
    reh.add_argument("--cloud", choices=CLOUDS, help="re-target to this cloud (default: the provider's)")
    reh.add_argument(
        "--out", "-o", metavar="DIR", help="the Terraform folder to write (default: a temporary one)"
    )
    reh.add_argument("--wheels", metavar="DIR", help="resolve the packages from this folder of wheels")
    reh.add_argument(
        "--phases", dest="verbose_phases", action="store_true", help="print each phase on stderr"
    )

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
    ex.set_defaults(handler=commands.export)
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
        ours = isinstance(exc, GlacierError)
        text = " ".join((str(exc).strip() or type(exc).__name__).split())
        if not ours:
            text = f"{type(exc).__name__}: {text}"
        hint = "" if verbose or ours else " (-v shows the traceback)"
        print(f"glacier: error: {text}{hint}", file=sys.stderr)
        return 1
