"""``ResourceWidget``: a provider's storage and execution resources as a browsable tree."""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from glacier.display._html import fmt_signature, fmt_uri
from glacier_jupyter.widgets.payload import _jsonable

if TYPE_CHECKING:
    from glacier.provider import Provider

__all__ = ["ResourceWidget", "refresh_all", "resource_tree"]

_STATIC = Path(__file__).parent / "static"
_LIVE: weakref.WeakSet[ResourceWidget] = weakref.WeakSet()


def _calls(provider: Provider) -> dict[int, tuple[set[str], set[str], list[str]]]:
    """What each of the provider's tasks reads and writes where a pipeline calls it (the
    buckets given as arguments: what the DAG draws), and the pipelines calling it."""
    from glacier.pipelines import defined_pipelines

    ours = {id(t) for ex in provider.executors for t in ex.tasks}
    found: dict[int, tuple[set[str], set[str], list[str]]] = {}
    for pipe in defined_pipelines():
        try:
            graph = pipe.graph
        except Exception:  # a pipeline that cannot be traced adds nothing here
            continue
        for node in graph.nodes.values():
            if id(node.task) not in ours:
                continue
            reads, writes, names = found.setdefault(id(node.task), (set(), set(), []))
            reads.update(b.name for b in node.reads)
            writes.update(b.name for b in node.writes)
            if pipe.name not in names:
                names.append(pipe.name)
    return found


def _shape(provider: Provider) -> tuple[Any, ...]:
    """What the tree is made of: its buckets, executors, tasks and the pipelines around."""
    from glacier.pipelines import defined_pipelines

    return (
        tuple(id(b) for b in provider.buckets),
        tuple((id(ex), tuple(id(t) for t in ex.tasks)) for ex in provider.executors),
        tuple(id(p) for p in defined_pipelines()),
    )


def refresh_all() -> None:
    """Redraw the resource viewers whose provider changed (IPython calls it after each cell)."""
    for widget in list(_LIVE):
        if getattr(widget, "comm", None) is not None:
            widget.refresh()


def _item(
    item_id: str, label: str, kind: str, details: dict[str, Any], children: list[Any] | None = None
) -> dict[str, Any]:
    return {
        "id": item_id,
        "label": label,
        "kind": kind,
        "details": _jsonable(details),
        "children": children or [],
    }


def resource_tree(provider: Provider) -> dict[str, Any]:
    """The tree the widget shows: provider (cloud, region...) > storage > buckets and
    > execution > executors > tasks. Built from ``provider.describe()``; no secrets."""
    info = provider.describe()
    facts = {k: v for k, v in info.items() if k not in ("buckets", "executors")}
    buckets = []
    for bucket in provider.buckets:
        cfg = bucket.config
        buckets.append(
            _item(
                f"bucket:{bucket.name}",
                bucket.name,
                "bucket",
                {
                    "uri": fmt_uri(bucket.get_uri()),
                    "format": bucket.format,
                    "config": type(cfg).__name__ if cfg is not None else None,
                    **({"settings": cfg.public_dict()} if cfg is not None else {}),
                    "exists": bucket.exists() if bucket.backend.instant else "click to check",
                },
            )
        )
    executors = []
    calls = _calls(provider)
    for ex in provider.executors:
        described = ex.describe()
        tasks = [
            _item(
                f"task:{ex.name}:{task.name}",
                task.name,
                "task",
                {
                    "signature": fmt_signature(task.name, task.signature),
                    "executor": ex.name,
                    "retries": task.retries,
                    "cache": task.cache,
                    "timeout": task.timeout,
                    "reads": sorted({b.name for b in task.reads} | calls.get(id(task), (set(),))[0]),
                    "writes": sorted({b.name for b in task.writes} | calls.get(id(task), (set(), set()))[1]),
                    "pipelines": calls.get(id(task), (set(), set(), []))[2],
                },
            )
            for task in ex.tasks
        ]
        details = {k: v for k, v in described.items() if k != "tasks"}
        details["tasks"] = len(tasks)
        executors.append(_item(f"executor:{ex.name}", f"{ex.name} ({ex.kind})", "executor", details, tasks))
    cloud = str(info.get("cloud", "?"))
    where = info.get("region") or info.get("location") or info.get("base_path") or ""
    return _item(
        "provider",
        f"Provider {cloud}" + (f" · {where}" if where else ""),
        "provider",
        facts,
        [
            _item("storage", f"Storage ({len(buckets)})", "group", {"buckets": len(buckets)}, buckets),
            _item(
                "execution",
                f"Execution ({len(executors)})",
                "group",
                {"executors": len(executors)},
                executors,
            ),
        ],
    )


class ResourceWidget(anywidget.AnyWidget):
    """A provider's resources as a tree; click an item for its details. A bucket's
    existence is checked (``bucket.exists()``) when it is clicked. The tree follows the
    provider: resources created later appear after the cell that made them.

    Examples
    --------
    >>> from glacier_jupyter.widgets import ResourceWidget  # doctest: +SKIP
    >>> ResourceWidget(provider)  # doctest: +SKIP
    """

    _esm = _STATIC / "resources.js"
    _css = _STATIC / "widgets.css"

    tree = traitlets.Dict().tag(sync=True)
    exists = traitlets.Dict().tag(sync=True)

    def __init__(self, provider: Provider, **kwargs: Any) -> None:
        super().__init__(tree=resource_tree(provider), **kwargs)
        self.provider = provider
        self._shape = _shape(provider)
        self.on_msg(self._on_msg)
        _LIVE.add(self)

    def refresh(self) -> bool:
        """Rebuild the tree if the provider's resources (or the pipelines calling its tasks)
        changed since it was drawn; returns whether it did."""
        shape = _shape(self.provider)
        if shape == self._shape:
            return False
        self._shape = shape
        self.tree = resource_tree(self.provider)
        return True

    def handle_message(self, content: dict[str, Any]) -> dict[str, Any] | None:
        """``{"type": "exists", "bucket": NAME}`` checks one bucket and updates ``exists``
        (``true``, ``false`` or the error's text)."""
        if not isinstance(content, dict) or content.get("type") != "exists":
            return None
        name = str(content.get("bucket", ""))
        bucket = next((b for b in self.provider.buckets if b.name == name), None)
        if bucket is None:
            value: Any = f"no bucket {name!r} on this provider"
        else:
            try:
                value = bool(bucket.exists())
            except Exception as exc:
                lines = str(exc).strip().splitlines()
                value = f"{type(exc).__name__}: {lines[0] if lines else ''}"
        self.exists = {**self.exists, name: value}
        return self.exists

    def _on_msg(self, widget: Any, content: Any, buffers: Any) -> None:
        self.handle_message(content)

    def __repr__(self) -> str:
        return f"ResourceWidget({self.tree.get('label')!r})"
