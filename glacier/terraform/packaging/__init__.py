"""Complete deployment packages: everything ``terraform apply`` uploads, built under ``OUT/build/``.

Examples
--------
>>> from glacier.terraform.packaging import build_packages  # doctest: +SKIP
>>> report = build_packages(plan, "infra/")  # doctest: +SKIP
>>> print(report.summary())  # doctest: +SKIP
"""

from __future__ import annotations

from glacier.terraform.packaging.build import Artifact, BuildReport, build_packages
from glacier.terraform.packaging.pins import DISTRIBUTION, Pin, runtime_pins
from glacier.terraform.packaging.wheels import PackageBuildError

__all__ = [
    "Artifact",
    "BuildReport",
    "DISTRIBUTION",
    "PackageBuildError",
    "Pin",
    "build_packages",
    "runtime_pins",
]
