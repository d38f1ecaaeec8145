"""Storage (``Bucket``) and execution (``Executor``) resources."""

from __future__ import annotations

from glacier.resources.bucket import Bucket
from glacier.resources.executor import Executor

__all__ = ["Bucket", "Executor"]
