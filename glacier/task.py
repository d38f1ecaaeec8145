"""Tasks: functions bound to an execution resource with ``@executor.task()``."""

from __future__ import annotations

import dis
import functools
import inspect
import time
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import polars as pl

from glacier import partitions as parts
from glacier.display.protocol import Displayable
from glacier.errors import DefinitionError
from glacier.graph import Output, current_graph
from glacier.resources.bucket import Bucket

if TYPE_CHECKING:
    from glacier.resources.executor import Executor
    from glacier.task_options import TaskOptions

__all__ = ["Task", "MappedTask"]

#: Attribute names that mean a bucket is written (or may be: ``get_uri`` hands the
#: location to other code), and those that only read.
_WRITE_ATTRS = frozenset({"write", "get_uri", "delete", "fs", "storage_options"})
_READ_ATTRS = frozenset({"scan", "read", "exists", "ls", "format"})


class Task(Displayable):
    """A function bound to an executor.

    Inside a ``@pipeline`` body a call records a node and returns a placeholder;
    anywhere else it runs the function directly (with its retries). ``options`` are the
    validated options of ``@executor.task(...)`` (:mod:`glacier.task_options`).
    """

    def __init__(self, fn: Callable[..., Any], executor: Executor, options: TaskOptions) -> None:
        if isinstance(fn, Task):
            raise DefinitionError(
                f"{fn.name!r} is already a task (bound to {fn.executor.name}); bind the function once"
            )
        if not inspect.isfunction(fn) and not inspect.ismethod(fn):
            what = "a class" if inspect.isclass(fn) else f"a {type(fn).__name__}"
            raise DefinitionError(
                f"@{executor.name}.task() decorates a function (def ...), not {what}: {fn!r}"
            )
        self.fn = fn
        self.executor = executor
        self.name = options.name or fn.__name__
        if not self.name.isidentifier():
            raise DefinitionError(
                f"task name {self.name!r} must be a Python identifier, for example 'clean_orders'"
            )
        self.retries = options.retries
        self.retry_delay = options.retry_delay
        self.backoff = options.backoff
        self.cache = options.cache
        self.timeout = options.timeout
        self.signature = inspect.signature(fn)
        plain = inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.POSITIONAL_ONLY
        params = self.signature.parameters.values()
        #: Parameter names when every parameter is plainly positional (fast binding).
        self._positional = tuple(p.name for p in params) if all(p.kind in plain for p in params) else None
        self._param_access, refs = _bucket_usage(fn)
        self.reads = options.reads + tuple(b for b, mode in refs if mode == "read")
        self.writes = options.writes + tuple(b for b, mode in refs if mode == "write")
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    # -- metadata --------------------------------------------------------------------
    @functools.cached_property
    def hints(self) -> dict[str, Any]:
        try:
            return typing.get_type_hints(self.fn)
        except Exception:
            return dict(getattr(self.fn, "__annotations__", {}))

    @functools.cached_property
    def frame_params(self) -> dict[str, str]:
        """Parameters annotated as frames: name -> ``"lazy"`` or ``"eager"``."""
        return {
            name: kind
            for name, hint in self.hints.items()
            if name != "return" and (kind := _frame_kind(hint))
        }

    @functools.cached_property
    def returns_frame(self) -> str | None:
        return _frame_kind(self.hints.get("return"))

    @functools.cached_property
    def signature_text(self) -> str:
        """The signature as written in the source (``(df: pl.LazyFrame) -> pl.LazyFrame``)."""
        return signature_text(self.signature)

    def param_mode(self, param: str) -> str:
        """How the body uses a parameter holding a bucket: ``"read"`` or ``"write"``."""
        return self._param_access.get(param, "read")

    # -- calling ---------------------------------------------------------------------
    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> inspect.BoundArguments:
        try:
            return self.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise DefinitionError(
                f"{self.name}() {exc}; its signature is {self.name}{self.signature_text}"
            ) from None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        graph = current_graph()
        names = self._positional
        if not kwargs and names is not None and len(args) == len(names):
            arguments = dict(zip(names, args, strict=True))  # fast path: plain positional call
        else:
            bound = self.bind(args, kwargs)
            args, kwargs, arguments = bound.args, bound.kwargs, bound.arguments
        if graph is not None:
            return Output(graph.add(self, args, kwargs, arguments))
        return self.call(args, kwargs)

    def map(self, source: Any, *args: Any, into: Bucket | None = None, **kwargs: Any) -> Any:
        """Run this task once per file of ``source`` (a bucket glob or folder), in parallel
        on a Dask executor; frames are combined, or written as a dataset ``into`` a folder.
        See :mod:`glacier.partitions`."""
        if isinstance(self, MappedTask):
            raise DefinitionError(f"{self.name}.map(...) is already a map: map the task itself")
        return MappedTask(self, into=into)(source, *args, **kwargs)

    def call(
        self,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        on_retry: Callable[[int, BaseException], None] | None = None,
        pause: Callable[[float], None] = time.sleep,
    ) -> Any:
        """Run the function with frame conversions and retries; check what it returns."""
        if self.frame_params:
            args, kwargs = self.convert_inputs(args, kwargs)
        fn = self.fn
        if not self.retries:
            return self.check_output(fn(*args, **kwargs))
        return self.check_output(self.retrying(lambda: fn(*args, **kwargs), on_retry=on_retry, pause=pause))

    def retrying(
        self,
        attempt: Callable[[], Any],
        *,
        on_retry: Callable[[int, BaseException], None] | None = None,
        pause: Callable[[float], None] = time.sleep,
        final: tuple[type[BaseException], ...] = (),
    ) -> Any:
        """``attempt()`` until it succeeds or ``retries`` are spent, waiting ``retry_delay``
        (times ``backoff`` per attempt) in between; errors of a ``final`` type are not retried."""
        tries = 0
        while True:
            try:
                return attempt()
            except final:
                raise
            except Exception as exc:
                if tries >= self.retries:
                    raise
                pause(self.retry_delay * (self.backoff**tries))  # raises when the run is stopped
                tries += 1
                if on_retry is not None:  # said as the next attempt starts
                    on_retry(tries, exc)

    def convert_inputs(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Scan buckets and convert frames where a parameter is annotated as a frame."""
        bound = self.signature.bind(*args, **kwargs)
        params = self.signature.parameters
        for name, kind in self.frame_params.items():
            if name not in bound.arguments:
                continue
            value = bound.arguments[name]
            if params[name].kind is inspect.Parameter.VAR_POSITIONAL:
                bound.arguments[name] = tuple(self._convert(name, v, kind) for v in value)
            elif params[name].kind is inspect.Parameter.VAR_KEYWORD:
                bound.arguments[name] = {k: self._convert(name, v, kind) for k, v in value.items()}
            else:
                bound.arguments[name] = self._convert(name, value, kind)
        return bound.args, bound.kwargs

    def _convert(self, param: str, value: Any, kind: str) -> Any:
        if isinstance(value, Bucket):
            value = value.scan()
        if kind == "lazy":
            if isinstance(value, pl.DataFrame):
                return value.lazy()
            if isinstance(value, pl.LazyFrame):
                return value
        else:
            if isinstance(value, pl.LazyFrame):
                return value.collect()
            if isinstance(value, pl.DataFrame):
                return value
        want = "pl.LazyFrame" if kind == "lazy" else "pl.DataFrame"
        raise DefinitionError(
            f"{self.name}() parameter {param!r} expects a {want} (or a bucket), "
            f"but got {type(value).__name__}: pass a frame, a bucket or a task output that is a frame"
        )

    def check_output(self, result: Any) -> Any:
        kind = self.returns_frame
        if kind and not isinstance(result, (pl.LazyFrame, pl.DataFrame)):
            want = "pl.LazyFrame" if kind == "lazy" else "pl.DataFrame"
            raise DefinitionError(
                f"task {self.name!r} is annotated to return {want} but returned "
                f"{type(result).__name__}: return a polars frame (or change the annotation)"
            )
        return result

    def __get__(self, obj: Any, objtype: Any = None) -> Task:
        return self

    def _bundle_(self) -> dict[str, Any]:
        from glacier.display.resources import task_bundle

        return task_bundle(self)

    def __repr__(self) -> str:
        return f"<Task {self.name}{self.signature_text} on {self.executor.name} ({self.executor.kind})>"


class MappedTask(Task):
    """``inner`` applied to every partition of its first argument (a bucket); see
    :mod:`glacier.partitions`. ``into`` writes each partition's output as one file."""

    def __init__(self, inner: Task, *, into: Bucket | None = None) -> None:
        if into is not None and not isinstance(into, Bucket):
            raise DefinitionError(
                f"{inner.name}.map(into=...) takes a bucket folder (provider.bucket(bucket=..., path='out')), "
                f"not {type(into).__name__}"
            )
        self.inner = inner
        self.into = into

        def run_map(source: Any, *args: Any, **kwargs: Any) -> Any:
            return self.run_here(source, args, kwargs)

        from glacier.task_options import TaskOptions

        options = TaskOptions(
            name=inner.name,
            cache=inner.cache,
            timeout=inner.timeout,
            reads=inner.reads,
            writes=(*inner.writes, *((into,) if into is not None else ())),
        )
        super().__init__(run_map, inner.executor, options)
        self.source_fn = inner.fn

    def run_here(self, source: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run every partition in this process, one after the other."""
        inner, into = self.inner, self.into
        found = parts.partitions(source)
        if into is not None:
            parts.clear_into(into)
        results = []
        for index, part in enumerate(found):
            value = inner.call((part, *args), kwargs)
            if into is None:
                results.append(value)
                continue
            if not isinstance(value, (pl.DataFrame, pl.LazyFrame)):
                raise DefinitionError(
                    f"{inner.name}.map(into=...) writes each partition's output, so {inner.name} must return "
                    f"a polars frame, not {type(value).__name__}"
                )
            parts.output_part(into, part, index).write(value)
        return parts.dataset(into) if into is not None else parts.combine(results)

    def __repr__(self) -> str:
        into = f" into {self.into.name}" if self.into is not None else ""
        return f"<Task {self.inner.name}.map(...) on {self.executor.name} ({self.executor.kind}){into}>"


class _Written:
    """An annotation shown exactly as written (postponed annotations are strings)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def signature_text(sig: inspect.Signature) -> str:
    """``str(sig)`` without the quotes that postponed annotations add."""
    empty = inspect.Signature.empty
    params = [
        p.replace(annotation=_Written(p.annotation)) if isinstance(p.annotation, str) else p
        for p in sig.parameters.values()
    ]
    ret = sig.return_annotation
    return str(
        sig.replace(parameters=params, return_annotation=_Written(ret) if isinstance(ret, str) else ret)
        if params or ret is not empty
        else sig
    )


def _frame_kind(hint: Any) -> str | None:
    if hint is None:
        return None
    if hint is pl.LazyFrame or hint in ("pl.LazyFrame", "LazyFrame", "polars.LazyFrame"):
        return "lazy"
    if hint is pl.DataFrame or hint in ("pl.DataFrame", "DataFrame", "polars.DataFrame"):
        return "eager"
    return None


def _bucket_usage(fn: Callable[..., Any]) -> tuple[dict[str, str], list[tuple[Bucket, str]]]:
    """Read the bytecode for ``name.attr`` uses: which parameters are used as written
    buckets, and which global/closure buckets the body reads or writes."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return {}, []
    params = set(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
    closure = {
        name: cell.cell_contents
        for name, cell in zip(code.co_freevars, fn.__closure__ or (), strict=False)
        if _has(cell)
    }
    fglobals = getattr(fn, "__globals__", {})
    uses: dict[str, set[str]] = {}
    plain: set[str] = set()

    def visit(co: Any) -> None:
        last: str | None = None
        for ins in dis.get_instructions(co):
            if ins.opname in ("LOAD_GLOBAL", "LOAD_DEREF", "LOAD_FAST", "LOAD_NAME", "LOAD_CLOSURE"):
                last = ins.argval if isinstance(ins.argval, str) else None
                if last:
                    plain.add(last)
                continue
            if last and ins.opname in ("LOAD_ATTR", "LOAD_METHOD"):
                uses.setdefault(last, set()).add(ins.argval)
            last = None
        for const in co.co_consts:
            if inspect.iscode(const):
                visit(const)

    visit(code)

    def mode(name: str) -> str:
        attrs = uses.get(name, set())
        return "write" if attrs & _WRITE_ATTRS else "read"

    param_access = {name: mode(name) for name in params if name in uses}
    refs: list[tuple[Bucket, str]] = []
    seen: set[int] = set()
    for name in sorted(plain - params):
        value = closure.get(name, fglobals.get(name))
        if isinstance(value, Bucket) and id(value) not in seen:
            seen.add(id(value))
            refs.append((value, mode(name)))
    return param_access, refs


def _has(cell: Any) -> bool:
    try:
        _ = cell.cell_contents
    except ValueError:
        return False
    return True
