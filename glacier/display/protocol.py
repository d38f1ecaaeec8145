"""The display protocol: an object that shows itself in Jupyter builds its own bundle.

A class mixes in :class:`Displayable` and defines ``_bundle_()``, returning at least
``text/plain`` (what a terminal shows) and ``text/html``. Jupyter calls
``_repr_mimebundle_``, which the mixin provides once for every class: it filters the
bundle by ``include``/``exclude`` and never lets a failing display break a cell. No
IPython import is needed or made.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Displayable", "mimebundle"]


class Displayable:
    """Mixin for objects with a rich display: subclasses define :meth:`_bundle_`."""

    __slots__ = ()

    def _bundle_(self) -> dict[str, Any]:
        """This object's MIME bundle (``text/plain`` and ``text/html`` at least)."""
        raise NotImplementedError(f"{type(self).__name__} does not define _bundle_()")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return mimebundle(self, include, exclude)


def mimebundle(obj: Any, include: Any = None, exclude: Any = None) -> dict[str, Any]:
    """The display bundle of ``obj``: ``text/plain`` always, richer types where it has them.

    Parameters
    ----------
    obj : object
        A :class:`Displayable` (anything else shows its ``repr``).
    include, exclude : collection of str, optional
        MIME types to keep or to drop, as Jupyter passes them; ``text/plain`` is always kept.
    """
    bundle: dict[str, Any] = {"text/plain": repr(obj)}
    if isinstance(obj, Displayable):
        try:
            bundle = obj._bundle_()
        except Exception as exc:  # a display must never break a cell
            bundle = {"text/plain": f"{obj!r}\n  (display failed: {type(exc).__name__}: {exc})"}
    if include:
        bundle = {k: v for k, v in bundle.items() if k in include or k == "text/plain"}
    if exclude:
        bundle = {k: v for k, v in bundle.items() if k not in exclude}
    return bundle
