"""Rich display of Glacier objects (HTML/SVG/text) without importing IPython.

Jupyter calls ``obj._repr_mimebundle_()``; every Glacier object delegates here.
"""

from __future__ import annotations

from typing import Any

__all__ = ["mimebundle"]


def mimebundle(obj: Any, include: Any = None, exclude: Any = None) -> dict[str, Any]:
    """The display bundle for ``obj``: ``text/plain`` always, richer types where known."""
    return {"text/plain": repr(obj)}
