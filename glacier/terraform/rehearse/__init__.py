"""``glacier rehearse``: run the generated deployment locally, before anyone applies it.

Examples
--------
>>> from glacier.terraform.rehearse import rehearse  # doctest: +SKIP
>>> result = rehearse(ml_pipeline, cloud="aws", out="infra/")  # doctest: +SKIP
>>> print(result.table())  # doctest: +SKIP
"""

from __future__ import annotations

from glacier.terraform.rehearse.model import RehearsalError
from glacier.terraform.rehearse.report import Rehearsal, TaskResult
from glacier.terraform.rehearse.run import rehearse

__all__ = ["Rehearsal", "RehearsalError", "TaskResult", "rehearse"]
