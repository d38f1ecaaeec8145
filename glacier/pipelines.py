"""Pipelines: ``@pipeline(name=...)`` composes task calls into a DAG and runs it."""

from __future__ import annotations

import functools
import inspect
import os
import sys
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, overload

import polars as pl

from glacier.display.protocol import Displayable
from glacier.errors import DefinitionError, DeploymentRequiredError, PipelineError, user_frames
from glacier.graph import Graph, Param, current_graph, substitute, tracing
from glacier.lineage import observe_run
from glacier.run.events import GLOBAL_BUS, EventBus, RunEvent

if TYPE_CHECKING:
    from glacier.run.record import RunRecord

__all__ = ["Pipeline", "pipeline", "MODES", "defined_pipelines"]

MODES = ("local", "distributed")

#: Every pipeline defined in this process, by (module, qualified name, pipeline name): a
#: re-run notebook cell replaces its earlier definition. Weak: an unused pipeline goes away.
_DEFINED: dict[tuple[str, str, str], weakref.ref[Pipeline]] = {}


def defined_pipelines() -> list[Pipeline]:
    """The live pipelines defined in this process, in definition order."""
    live = [(key, ref()) for key, ref in list(_DEFINED.items())]
    for key, found in live:
        if found is None:
            _DEFINED.pop(key, None)
    return [found for _, found in live if found is not None]


class Pipeline(Displayable):
    """A traced composition of tasks. Made by ``@pipeline``.

    Examples
    --------
    >>> @pipeline(name="simple")  # doctest: +SKIP
    ... def simple_pipeline():
    ...     return transform(load(data_source))
    >>> simple_pipeline.run(mode="local").collect()  # doctest: +SKIP
    """

    def __init__(self, fn: Callable[..., Any], *, name: str | None = None) -> None:
        if not inspect.isfunction(fn):
            raise DefinitionError(f"@pipeline decorates a function (def ...), not {type(fn).__name__}")
        self.fn = fn
        self.name = name or fn.__name__
        self.signature = inspect.signature(fn)
        self.description = inspect.getdoc(fn) or ""
        self.last_run: RunRecord | None = None
        self.events = EventBus()
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]
        _DEFINED[(fn.__module__, fn.__qualname__, self.name)] = weakref.ref(self)

    # -- tracing ---------------------------------------------------------------------
    def trace(self, *args: Any, **params: Any) -> Graph:
        """Build the graph for these parameters without running any task."""
        try:
            bound = self.signature.bind(*args, **params)
        except TypeError as exc:
            raise DefinitionError(
                f"pipeline {self.name!r}: {exc}; its parameters are {self.signature}"
            ) from None
        bound.apply_defaults()
        graph = Graph(self.name, params=dict(bound.arguments))
        with tracing(graph):
            result = self.fn(*bound.args, **bound.kwargs)
        if result is None:
            raise DefinitionError(
                f"pipeline {self.name!r} returns nothing: end its body with `return` and the task "
                "outputs you want back (for example `return result`)"
            )
        if not graph.nodes:
            raise DefinitionError(
                f"pipeline {self.name!r} calls no task: call functions decorated with @executor.task() in its body"
            )
        graph.result = result
        return graph

    @property
    def graph(self) -> Graph:
        """The DAG, traced with the parameters' defaults (placeholders where none)."""
        params = {
            name: Param(name)
            for name, p in self.signature.parameters.items()
            if p.default is inspect.Parameter.empty
            and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        }
        return self.trace(**params)

    # -- running ---------------------------------------------------------------------
    def subscribe(self, callback: Callable[[RunEvent], None]) -> Callable[[], None]:
        """Receive the events of every run of this pipeline; returns an unsubscribe function."""
        return self.events.subscribe(callback)

    def run(
        self,
        *args: Any,
        mode: str = "local",
        progress: bool | None = None,
        on_event: Callable[[RunEvent], None] | None = None,
        emulate: bool = False,
        max_workers: int | None = None,
        **params: Any,
    ) -> Any:
        """Run the pipeline and return what its function returns, with values in place
        of task outputs. ``pl.LazyFrame`` results come back already computed.

        Parameters
        ----------
        mode : {"local", "distributed"}
            ``local`` runs every task in this process; ``distributed`` runs each task on
            its executor's engine (Dask clusters for ``DaskConfig``).
        progress : bool, optional
            Show a progress bar (default: when stderr is a terminal; ``GLACIER_PROGRESS=1``
            or ``0`` decides instead). In a notebook, ``%glacier run`` shows the live DAG.
        on_event : callable, optional
            Called with every :class:`~glacier.run.RunEvent` of this run.
        emulate : bool
            Run serverless tasks under their memory and timeout limits (local mode).
        **params
            The pipeline's parameters.
        """
        if mode not in MODES:
            raise DefinitionError(
                f"mode={mode!r} is not a run mode: use one of {', '.join(map(repr, MODES))}"
            )
        if emulate and mode != "local":
            raise DefinitionError(
                "emulate=True runs serverless tasks under their limits on this machine: "
                "use it with mode='local'"
            )
        graph = self.trace(*args, **params)
        from glacier.run.placement import placements_for
        from glacier.run.record import RunRecord
        from glacier.run.scheduler import Scheduler, cache_for

        record = RunRecord(os.urandom(6).hex(), self.name, mode, params=_public_params(graph.params))
        self.last_run = record
        if mode == "distributed":
            _check_deployable(graph, record)
        subscribers = [s for s in (on_event,) if s is not None]
        if progress is None:
            progress = _progress_default()
        if progress:
            from glacier.run.progress import ProgressBar

            subscribers.append(ProgressBar(len(graph.nodes), self.name))
        lineage = observe_run(
            graph, record, lambda: scheduler.values
        )  # None unless OpenLineage is configured
        subscribers += [lineage] if lineage is not None else []
        scheduler = Scheduler(
            graph,
            record,
            _fanout(subscribers, self.events, GLOBAL_BUS),
            placements=placements_for(mode, emulate),
            max_workers=max_workers,
            cache=cache_for(graph),
        )
        try:
            values = scheduler.run()
        except PipelineError as exc:
            raise user_frames(exc) from exc.__cause__
        returned = {
            nid: value.lazy()
            if isinstance(value, pl.DataFrame)
            and graph.nodes[nid].task.returns_frame != "eager"
            and record.tasks[nid].lazy
            else value
            for nid, value in values.items()
        }
        return substitute(graph.result, returned)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if current_graph() is not None:  # a pipeline inside a pipeline: inline its tasks
            return self.fn(*args, **kwargs)
        return self.run(*args, **kwargs)

    # -- previews (glacier.preview) ----------------------------------------------------
    def node(self, node_id: str) -> Any:
        """The output of one task node, e.g. ``etl.node("clean").preview()``."""
        from glacier.preview import NodeOutput

        self.graph[node_id]  # KeyError naming the known tasks
        return NodeOutput(self, node_id)

    def preview(self, node: str, n: int = 10, **params: Any) -> Any:
        """First ``n`` rows and schema of ``node``'s output, running only its upstream part."""
        from glacier.preview import preview_node

        return preview_node(self, node, n=n, **params)

    def _bundle_(self) -> dict[str, Any]:
        from glacier.display.dag import pipeline_bundle

        return pipeline_bundle(self)

    def __repr__(self) -> str:
        return f"<Pipeline {self.name}{self.signature}>"


def _fanout(
    subscribers: list[Callable[[RunEvent], None]], *buses: EventBus
) -> Callable[[RunEvent], None] | None:
    live = [b for b in buses if b]
    if not subscribers and not live:
        return None

    def emit(event: RunEvent) -> None:
        for callback in subscribers:
            callback(event)
        for bus in live:
            bus.emit(event)

    return emit


def _progress_default() -> bool:
    """A bar where someone watches a terminal; none in notebooks (their outputs are saved) or logs."""
    setting = os.environ.get("GLACIER_PROGRESS", "").strip().lower()
    if setting:
        return setting not in ("0", "false", "no", "off")
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


def _check_deployable(graph: Graph, record: RunRecord) -> None:
    cloud = sorted(
        {
            (n.task.executor.name, n.task.executor.service)
            for n in graph.nodes.values()
            if n.task.executor.engine == "cloud"
        }
    )
    if cloud:
        names = ", ".join(f"{name} ({service})" for name, service in cloud)
        raise DeploymentRequiredError(
            f"pipeline {graph.name!r} cannot run with mode='distributed' here: executor(s) {names} "
            "need deployed cloud infrastructure. Deploy with `glacier terraform MODULE:PIPELINE`, "
            "or run with mode='local'",
            record,
        )


def _public_params(params: dict[str, Any]) -> dict[str, Any]:
    from pydantic import SecretStr

    return {k: ("**********" if isinstance(v, SecretStr) else v) for k, v in params.items()}


@overload
def pipeline(fn: Callable[..., Any], /) -> Pipeline: ...
@overload
def pipeline(fn: None = None, /, *, name: str | None = None) -> Callable[[Callable[..., Any]], Pipeline]: ...


def pipeline(fn: Any = None, /, *, name: str | None = None) -> Any:
    """Decorate a function whose body calls tasks: ``@pipeline(name="etl")``."""
    if isinstance(fn, str):
        raise DefinitionError(f"pipeline options are keyword-only: use @pipeline(name={fn!r})")
    if fn is not None:
        return Pipeline(fn, name=name)
    return lambda func: Pipeline(func, name=name)
