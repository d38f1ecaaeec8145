"""Spotting literals that look like credentials, and absolute paths, in notebook code.

Findings name the cell and line and what the literal looks like; they never repeat it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["find_credentials"]

_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])")
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an AWS access key id", re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Z0-9])")),
    ("an Azure storage connection string (AccountKey=)", re.compile(r"AccountKey=[^;\s'\"]{8,}", re.I)),
    (
        "an Azure shared access signature (SharedAccessSignature=)",
        re.compile(r"SharedAccessSignature=[^;\s'\"]{8,}", re.I),
    ),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    (
        "a password inside a URL (user:password@)",
        re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s/@:'\"]*:[^\s/@'\"]+@", re.I),
    ),
)


def _looks_like_aws_secret(candidate: str) -> bool:
    """40 characters of base64 with upper, lower and digits: not a hex digest, not a word."""
    return (
        any(c.isupper() for c in candidate)
        and any(c.islower() for c in candidate)
        and any(c.isdigit() for c in candidate)
    )


def find_credentials(source: str) -> Iterator[tuple[int, str]]:
    """Yield ``(line, what)`` for every line of ``source`` holding something secret-looking."""
    for lineno, line in enumerate(source.split("\n"), start=1):
        found: list[str] = []
        for what, pattern in _PATTERNS:
            if pattern.search(line):
                found.append(what)
        if not found and any(_looks_like_aws_secret(m.group(1)) for m in _AWS_SECRET.finditer(line)):
            found.append("an AWS secret access key")
        for what in found:
            yield lineno, what
