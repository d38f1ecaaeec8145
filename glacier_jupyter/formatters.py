"""In a kernel with widgets available, pipelines and providers display as the
interactive widgets; their static HTML/SVG stays in the same bundle as a fallback
for frontends without a widget manager (nbconvert, GitHub's viewer)."""

from __future__ import annotations

import logging
import sys
from typing import Any

from glacier_jupyter.bridge import in_kernel, widget_classes

__all__ = ["current_cell", "register_formatters", "unregister_formatters", "widget_bundle"]

_TYPES = ("glacier.pipelines.Pipeline", "glacier.provider.Provider")
_CELL = {"raw": ""}  # the source of the cell running now (IPython's history may not hold it)


def _remember_cell(info: Any) -> None:
    _CELL["raw"] = str(getattr(info, "raw_cell", "") or "")


def _refresh_viewers(result: Any) -> None:
    module = sys.modules.get("glacier_jupyter.widgets.resources")  # only once a viewer was made
    if module is None:
        return
    try:
        module.refresh_all()
    except Exception:  # a viewer that cannot redraw keeps its tree; the cell is not affected
        logging.getLogger("glacier").debug("resource viewer refresh failed", exc_info=True)


def current_cell() -> str:
    """The source of the cell running now (empty before the extension saw one)."""
    return _CELL["raw"]


def widget_bundle(obj: Any) -> dict[str, Any] | None:
    """Static bundle plus the widget view for a pipeline or provider, or ``None``."""
    from glacier.display import mimebundle
    from glacier.pipelines import Pipeline

    classes = widget_classes()
    if classes is None:
        return None
    static = mimebundle(obj)
    cls = classes[0] if isinstance(obj, Pipeline) else classes[1]
    try:
        widget = cls(obj)
        view = widget._repr_mimebundle_()
    except Exception:  # a widget that cannot be built: the static picture still shows
        return None
    if isinstance(view, tuple):
        view = view[0]
    if not view:
        return None
    return {**static, **view, "text/plain": static["text/plain"]}


def _formatter(obj: Any, include: Any = None, exclude: Any = None) -> dict[str, Any]:
    from glacier.display import mimebundle

    return widget_bundle(obj) or mimebundle(obj, include, exclude)


def register_formatters(shell: Any) -> None:
    """Registered by type name, so nothing (neither glacier's classes nor the widgets)
    is imported before a pipeline or provider is actually displayed."""
    if _remember_cell not in shell.events.callbacks["pre_run_cell"]:
        shell.events.register("pre_run_cell", _remember_cell)
    from glacier_jupyter import history

    history.start()  # the last runs of each pipeline, for run_history() and the widget
    if not in_kernel(shell):
        return
    if _refresh_viewers not in shell.events.callbacks["post_run_cell"]:
        shell.events.register("post_run_cell", _refresh_viewers)
    fmt = shell.display_formatter.mimebundle_formatter
    for name in _TYPES:
        module, cls = name.rsplit(".", 1)
        fmt.for_type_by_name(module, cls, _formatter)


def unregister_formatters(shell: Any) -> None:
    from glacier_jupyter import history

    history.stop()
    if _remember_cell in shell.events.callbacks["pre_run_cell"]:
        shell.events.unregister("pre_run_cell", _remember_cell)
    if _refresh_viewers in shell.events.callbacks["post_run_cell"]:
        shell.events.unregister("post_run_cell", _refresh_viewers)
    fmt = shell.display_formatter.mimebundle_formatter
    for name in _TYPES:
        module, cls = name.rsplit(".", 1)
        fmt.deferred_printers.pop((module, cls), None)
        for typ in list(fmt.type_printers):
            if f"{typ.__module__}.{typ.__qualname__}" == name:
                fmt.type_printers.pop(typ, None)
