"""Rich display of Glacier objects (HTML/SVG/text) without importing IPython.

Jupyter calls ``obj._repr_mimebundle_()``; every Glacier object delegates here.
Every bundle has ``text/plain`` (a terminal shows it) and ``text/html``; none holds
a secret (configs are shown through their ``public_dict()``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["mimebundle", "render"]


def render(obj: Any) -> dict[str, Any] | None:
    """The full bundle for a Glacier object, or ``None`` for anything else."""
    from glacier.pipelines import Pipeline
    from glacier.preview import Preview
    from glacier.provider import Provider
    from glacier.resources.bucket import Bucket
    from glacier.resources.executor import Executor
    from glacier.run.record import RunRecord
    from glacier.task import Task

    if isinstance(obj, Pipeline):
        from glacier.display.dag import pipeline_bundle

        return pipeline_bundle(obj)
    if isinstance(obj, RunRecord):
        from glacier.display.runs import run_bundle

        return run_bundle(obj)
    if isinstance(obj, Preview):
        from glacier.display.frames import preview_bundle

        return preview_bundle(obj)
    from glacier.display import resources

    if isinstance(obj, Provider):
        return resources.provider_bundle(obj)
    if isinstance(obj, Bucket):
        return resources.bucket_bundle(obj)
    if isinstance(obj, Executor):
        return resources.executor_bundle(obj)
    if isinstance(obj, Task):
        return resources.task_bundle(obj)
    return None


def mimebundle(obj: Any, include: Any = None, exclude: Any = None) -> dict[str, Any]:
    """The display bundle for ``obj``: ``text/plain`` always, richer types where known."""
    try:
        bundle = render(obj)
    except Exception as exc:  # a display must never break a cell
        bundle = {"text/plain": f"{obj!r}\n  (display failed: {type(exc).__name__}: {exc})"}
    if bundle is None:
        bundle = {"text/plain": repr(obj)}
    if include:
        bundle = {k: v for k, v in bundle.items() if k in include or k == "text/plain"}
    if exclude:
        bundle = {k: v for k, v in bundle.items() if k not in exclude}
    return bundle
