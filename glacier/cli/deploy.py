"""``glacier terraform`` (with its packages) and ``glacier rehearse``."""

from __future__ import annotations

import argparse
import sys

from glacier.cli.load import load_pipeline

__all__ = ["terraform", "rehearse", "add_package_options"]


def add_package_options(cmd: argparse.ArgumentParser) -> None:
    """``--wheels`` and ``--requirement``: how the deployment packages are resolved."""
    cmd.add_argument(
        "--wheels",
        metavar="DIR",
        help="resolve the packages from this folder of wheels, not the package index",
    )
    cmd.add_argument(
        "--requirement",
        "-r",
        action="append",
        default=[],
        metavar="REQ",
        help="an extra requirement the pipeline needs (pinned to the installed version unless given)",
    )


def terraform(args: argparse.Namespace) -> int:
    """``glacier terraform``: the Terraform files and, under OUT/build/, the packages they upload."""
    from glacier.terraform import export
    from glacier.terraform.packaging import build_packages
    from glacier.terraform.plan import build_plan

    pipe = load_pipeline(args.target)
    for path in export(pipe, args.out, cloud=args.cloud) or ():
        print(f"wrote {path}")
    if not args.no_packages:
        plan = build_plan(pipe, cloud=args.cloud)
        report = build_packages(plan, args.out, wheelhouse=args.wheels, requirements=tuple(args.requirement))
        print(report.summary())
    return 0


def rehearse(args: argparse.Namespace) -> int:
    """``glacier rehearse``: run the generated deployment locally; exit 0 when it passed."""
    from glacier.terraform.rehearse import rehearse as run_rehearsal

    pipe = load_pipeline(args.target)
    say = (lambda line: print(line, file=sys.stderr)) if args.verbose_phases else None
    try:
        result = run_rehearsal(pipe, cloud=args.cloud, out=args.out, wheelhouse=args.wheels, log=say)
    except Exception as exc:  # the verdict line is the contract, whatever failed
        text = " ".join((str(exc).strip() or type(exc).__name__).split())
        print(f"rehearsal failed: {text}")
        return 1
    print(result.table())
    return 0 if result.passed else 1
