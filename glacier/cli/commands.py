"""The subcommands of ``glacier``: each takes the parsed arguments and returns an exit code.

Everything heavy (polars, the pipeline, Terraform, the exporter) is imported here, when a
subcommand runs, so that ``glacier --help`` starts fast.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from glacier.cli.errors import UsageError
from glacier.cli.load import load_pipeline
from glacier.cli.params import check_mode, parse_params

if TYPE_CHECKING:
    import argparse

__all__ = ["run", "dag", "export"]


def run(args: argparse.Namespace) -> int:
    """``glacier run``: run with a progress bar, print the summary (and the first rows)."""
    from glacier.errors import PipelineError

    pipe = load_pipeline(args.target)
    mode = check_mode(args.mode)
    params = parse_params(pipe, args.param)
    progress = False if args.no_progress else None
    try:
        result = pipe.run(mode=mode, progress=progress, **params)
    except PipelineError as exc:
        if exc.record is not None and exc.record.tasks:
            print(exc.record.summary())
        raise
    finally:
        sys.stderr.flush()
    if pipe.last_run is not None:
        print(pipe.last_run.summary())
    if args.show:
        print(_head(result, args.show))
    return 0


def _head(result: Any, n: int) -> str:
    if hasattr(result, "collect") and hasattr(result, "head"):
        return str(result.head(n).collect())
    if hasattr(result, "head"):
        return str(result.head(n))
    return repr(result)


def dag(args: argparse.Namespace) -> int:
    """``glacier dag``: the DAG as text, or written as an SVG picture or an HTML page."""
    from pathlib import Path

    from glacier.display.dag import dag_html, dag_summary, dag_svg, dag_text

    graph = load_pipeline(args.target).graph
    if not args.svg and not args.html:
        print(dag_summary(graph, f"pipeline {graph.name}"))
        print(dag_text(graph))
        return 0
    path = Path(args.svg or args.html)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = dag_svg(graph, title=f"pipeline {graph.name}") + "\n" if args.svg else dag_html(graph)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0


def export(args: argparse.Namespace) -> int:
    """``glacier export``: a notebook as a pipeline module (or check that it is up to date)."""
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
