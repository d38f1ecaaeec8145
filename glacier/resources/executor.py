"""Execution resources: where a task's code runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, overload

from glacier.display.protocol import Displayable
from glacier.errors import DefinitionError

if TYPE_CHECKING:
    from glacier.config import ExecutionConfig
    from glacier.provider import Provider
    from glacier.resources.bucket import Bucket
    from glacier.task import Task

__all__ = ["Executor"]


class Executor(Displayable):
    """An execution resource made by ``provider.local()``, ``.serverless()``, ``.vm()``
    or ``.cluster()``; bind tasks to it with ``@executor.task()``.

    Examples
    --------
    >>> local_exec = provider.local()  # doctest: +SKIP
    >>> @local_exec.task(retries=2)  # doctest: +SKIP
    ... def load(source) -> pl.LazyFrame:
    ...     return source.scan()
    """

    def __init__(self, provider: Provider, kind: str, config: ExecutionConfig | None, name: str) -> None:
        self.provider = provider
        self.kind = kind
        self.config = config
        self.name = name
        self._tasks: list[Task] = []

    @property
    def tasks(self) -> tuple[Task, ...]:
        """The tasks bound to this executor, in definition order."""
        return tuple(self._tasks)

    @property
    def engine(self) -> str:
        """What runs it with ``mode="distributed"``: ``inprocess``, ``dask`` or ``cloud``."""
        from glacier.config.execution import DaskConfig

        if self.kind == "local" or self.config is None:
            return "inprocess"
        if isinstance(self.config, DaskConfig):
            return "dask"
        return "cloud"

    @property
    def service(self) -> str:
        """The service that runs it (``AWS Lambda``, ``Dask`` ...) or ``this process``."""
        return self.config.service if self.config is not None else "this process"

    @overload
    def task(self, fn: Callable[..., Any], /) -> Task: ...
    @overload
    def task(
        self,
        fn: None = None,
        /,
        *,
        name: str | None = None,
        retries: int = 0,
        retry_delay: float = 1.0,
        backoff: float = 2.0,
        cache: bool = False,
        timeout: float | None = None,
        reads: tuple[Bucket, ...] | list[Bucket] = (),
        writes: tuple[Bucket, ...] | list[Bucket] = (),
    ) -> Callable[[Callable[..., Any]], Task]: ...

    def task(self, fn: Any = None, /, **options: Any) -> Any:
        """Bind a function to this executor as a task.

        Parameters
        ----------
        name : str, optional
            Node name in the DAG (default: the function's name).
        retries, retry_delay, backoff : int, float, float
            Attempts after a failure, the first delay in seconds, its growth factor.
        cache : bool
            Reuse the output while code, config, arguments and inputs are unchanged.
        timeout : float, optional
            Seconds before the task is stopped.
        reads, writes : sequence of Bucket
            Buckets the body uses that Glacier cannot see from the arguments.
        """
        from glacier.task import Task
        from glacier.task_options import check_task_options

        if fn is not None and not callable(fn):
            raise DefinitionError(
                f"{self.name}.task() options are keyword-only: use @{self.name}.task(name={fn!r})"
                if isinstance(fn, str)
                else f"@{self.name}.task() decorates a function, not {type(fn).__name__}"
            )
        valid = check_task_options(self.name, options)

        def bind(func: Callable[..., Any]) -> Task:
            task = Task(func, self, valid)
            self._tasks = [t for t in self._tasks if t.name != task.name]  # re-run cell: replace
            self._tasks.append(task)
            return task

        return bind(fn) if fn is not None else bind

    def describe(self) -> dict[str, Any]:
        """Facts shown in displays (no secrets)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "service": self.service,
            "config": type(self.config).__name__ if self.config is not None else None,
            "settings": self.config.public_dict() if self.config is not None else {},
            "tasks": [t.name for t in self._tasks],
        }

    def _bundle_(self) -> dict[str, Any]:
        from glacier.display.resources import executor_bundle

        return executor_bundle(self)

    def __repr__(self) -> str:
        cfg = f", config={self.config!r}" if self.config is not None else ""
        return f"Executor({self.name!r}, kind={self.kind!r}{cfg}, tasks={len(self._tasks)})"
