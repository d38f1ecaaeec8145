"""The one coupling to the interactive widgets (``glacier_jupyter.widgets``).

When the widgets can be imported (anywidget installed, the module present) the
DAG and resource viewers are the interactive ones; otherwise callers fall back to
the static HTML/SVG displays of :mod:`glacier.display`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["widget_classes", "in_kernel"]


def widget_classes() -> tuple[Any, Any] | None:
    """``(DagWidget, ResourceWidget)``, or ``None`` when widgets are unavailable."""
    try:
        from glacier_jupyter.widgets import DagWidget, ResourceWidget
    except ImportError:
        return None
    except Exception:  # a broken widget install: the static displays still work
        import logging

        logging.getLogger("glacier").warning("interactive widgets unavailable", exc_info=True)
        return None
    return DagWidget, ResourceWidget


def in_kernel(shell: Any) -> bool:
    """Whether ``shell`` runs in a Jupyter kernel (a frontend that renders HTML and widgets)."""
    return getattr(shell, "kernel", None) is not None
