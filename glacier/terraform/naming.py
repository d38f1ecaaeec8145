"""Stable Terraform identifiers from Glacier names; collisions are errors."""

from __future__ import annotations

import re
from collections.abc import Iterable

from glacier.errors import ConfigError

__all__ = ["ident", "unique_idents", "slug"]


def ident(name: str) -> str:
    """``"data-lake"`` -> ``"data_lake"``: lowercase letters, digits and underscores,
    starting with a letter (a valid Terraform identifier)."""
    out = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if not out:
        raise ConfigError(f"name {name!r} has no letter or digit to make a Terraform identifier from")
    return out if out[0].isalpha() else f"n_{out}"


def slug(name: str) -> str:
    """``"ml_predict"`` -> ``"ml-predict"``: for cloud resource names."""
    return ident(name).replace("_", "-")


def unique_idents(what: str, names: Iterable[str], *, reserved: Iterable[str] = ()) -> dict[str, str]:
    """Map each name to its identifier; two names with one identifier raise ``ConfigError``."""
    taken: dict[str, str] = {ident(r): f"(reserved by Glacier: {r})" for r in reserved}
    out: dict[str, str] = {}
    for name in names:
        if name in out:
            continue
        tid = ident(name)
        if tid in taken:
            raise ConfigError(
                f"{what} names {taken[tid]!r} and {name!r} both become the Terraform name {tid!r}: "
                f"rename one of them so they differ in more than case and punctuation"
            )
        taken[tid] = name
        out[name] = tid
    return out
