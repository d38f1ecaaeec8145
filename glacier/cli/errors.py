"""Mistakes in how ``glacier`` (or ``%glacier``) was called, and the "did you mean" hint."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from glacier.errors import GlacierError

__all__ = ["UsageError", "did_you_mean"]


class UsageError(GlacierError, ValueError):
    """A mistake in how ``glacier`` was called: shown as one line, exit code 1."""


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``" (did you mean 'numbers'?)"`` when a candidate is close to ``word``, else ``""``."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
