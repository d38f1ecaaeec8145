"""Glacier in Jupyter: the ``%glacier`` magic, rich displays and widgets.

Load it in a notebook or IPython with ``%load_ext glacier``; ``%unload_ext glacier``
removes it again. The core ``glacier`` package never imports this one (nor IPython).
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ipython: Any) -> None:
    """Register the ``%glacier`` magic (and widget displays where widgets work).

    Loading twice is harmless: the second call replaces the first registration.
    """
    from glacier_jupyter.formatters import register_formatters
    from glacier_jupyter.magics import GlacierMagics

    ipython.register_magics(GlacierMagics)
    register_formatters(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the ``%glacier`` magic and the widget displays."""
    from glacier_jupyter.formatters import unregister_formatters

    ipython.magics_manager.magics["line"].pop("glacier", None)
    ipython.magics_manager.registry.pop("GlacierMagics", None)
    unregister_formatters(ipython)
