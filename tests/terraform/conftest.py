"""Terraform test options: ``--update-snapshots`` rewrites the golden files."""

from __future__ import annotations


def pytest_addoption(parser):
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        default=False,
        help="rewrite tests/terraform/snapshots/<cloud>/<case>/*.tf from the current output",
    )
