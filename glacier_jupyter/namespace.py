"""Finding the objects a ``%glacier`` command names in the notebook's namespace.

Every user mistake becomes an ``IPython.core.error.UsageError`` with one readable line;
a misspelt name gets a "did you mean".
"""

from __future__ import annotations

import re
from typing import Any

from IPython.core.error import UsageError

from glacier.cli.errors import did_you_mean

__all__ = [
    "task_hint",
    "lookup",
    "lookup_pipeline",
    "lookup_previewable",
    "providers_in",
    "pipelines_in",
    "kind_of",
]

_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def kind_of(obj: Any) -> str:
    """``"a Task"``, ``"an int"``: what an object is, for messages."""
    name = type(obj).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def _public(names: Any) -> list[str]:
    return [n for n in names if isinstance(n, str) and not n.startswith("_")]


def lookup(ns: dict[str, Any], name: str, *, likely: list[str] | None = None) -> Any:
    """The object bound to ``name`` (a dotted name is followed attribute by attribute).

    ``likely`` are the names a misspelling is matched against first (say, the pipelines).
    """
    if not _DOTTED.match(name):
        raise UsageError(f"{name!r} is not a name: give the name of a variable in this notebook")
    head, *rest = name.split(".")
    if head not in ns:
        hint = did_you_mean(head, likely or []) or did_you_mean(head, _public(ns))
        raise UsageError(f"name {head!r} is not defined in this notebook{hint}")
    obj = ns[head]
    path = head
    for attr in rest:
        try:
            obj = getattr(obj, attr)
        except AttributeError:
            hint = did_you_mean(attr, _public(dir(obj)))
            raise UsageError(f"{path} ({kind_of(obj)}) has no attribute {attr!r}{hint}") from None
        path = f"{path}.{attr}"
    return obj


def pipelines_in(ns: dict[str, Any]) -> list[str]:
    """The public names bound to pipelines."""
    from glacier import Pipeline

    return [n for n, v in list(ns.items()) if isinstance(v, Pipeline) and not n.startswith("_")]


def lookup_pipeline(ns: dict[str, Any], name: str) -> Any:
    """The pipeline ``name`` names, or a ``UsageError`` saying what it is instead."""
    from glacier import Pipeline
    from glacier.task import Task

    obj = lookup(ns, name, likely=pipelines_in(ns))
    if not isinstance(obj, Pipeline):
        hint = (
            f": {name} is a task, use the pipeline that calls it"
            if isinstance(obj, Task)
            else ": make one with @pipeline(name=...)"
        )
        raise UsageError(f"{name} is {kind_of(obj)}, not a pipeline{hint}")
    return obj


def lookup_previewable(ns: dict[str, Any], expr: str) -> Any:
    """What ``%glacier preview EXPR`` looks at: ``PIPELINE.NODE`` is a pipeline's node
    output; other dotted names are variables; anything else is evaluated as Python."""
    from glacier import Pipeline

    if _DOTTED.match(expr):
        parts = expr.split(".")
        if len(parts) >= 2:
            owner = lookup(ns, ".".join(parts[:-1]))
            if isinstance(owner, Pipeline):
                return pipeline_node(owner, parts[-1], ".".join(parts[:-1]))
        return lookup(ns, expr, likely=pipelines_in(ns))
    try:
        return eval(compile(expr, "<%glacier preview>", "eval"), ns)
    except SyntaxError:
        raise UsageError(
            f"cannot read {expr!r}: give a variable, PIPELINE.TASK or a Python expression"
        ) from None
    except Exception as exc:
        raise UsageError(f"evaluating {expr!r} failed: {type(exc).__name__}: {exc}") from None


def task_hint(ns: dict[str, Any], task: Any, label: str) -> str:
    """The message for ``%glacier preview TASK``: name the pipeline nodes that call it."""
    uses = []
    for name in pipelines_in(ns):
        try:
            nodes = ns[name].graph.nodes.values()
        except Exception:  # a pipeline that cannot be traced names no node
            continue
        uses += [f"{name}.{n.id}" for n in nodes if n.task is task]
    where = f"for example %glacier preview {uses[0]}" if uses else "PIPELINE.TASK of a pipeline that calls it"
    return f"{label} is a task, which has no output of its own: preview its output in a pipeline, {where}"


def pipeline_node(pipeline: Any, node: str, label: str) -> Any:
    """``pipeline``'s output of ``node``, or a ``UsageError`` listing its tasks."""
    from glacier.preview import NodeOutput

    try:
        graph = pipeline.graph
    except Exception as exc:
        raise UsageError(f"cannot trace pipeline {label}: {exc}") from None
    if node not in graph.nodes:
        known = ", ".join(graph.nodes)
        hint = did_you_mean(node, list(graph.nodes))
        raise UsageError(f"pipeline {label} has no task {node!r}; its tasks are: {known}{hint}")
    return NodeOutput(pipeline, node)


def providers_in(ns: dict[str, Any]) -> list[tuple[str, Any]]:
    """Every ``Provider`` bound to a public name, in definition order."""
    from glacier.provider import Provider

    seen: set[int] = set()
    out = []
    for name, value in list(ns.items()):
        if isinstance(value, Provider) and not name.startswith("_") and id(value) not in seen:
            seen.add(id(value))
            out.append((name, value))
    return out
