"""Validation of ``@executor.task(...)`` options, at declaration time.

A bad option is one :class:`~glacier.errors.DefinitionError` naming the option, the value
and what is allowed, raised before the function is even decorated: never a ``TypeError``
at the first call, an ``OverflowError`` at the first retry, or a silently odd meaning
(``timeout=nan`` as no timeout, ``retries=True`` as one retry, ``cache="yes"``).

Examples
--------
>>> check_task_options("local", {"retries": 2, "retry_delay": 0.5})
TaskOptions(name=None, retries=2, retry_delay=0.5, backoff=2.0, cache=False, timeout=None, reads=(), writes=())
>>> check_task_options("local", {"timeout": "5"})
Traceback (most recent call last):
...
glacier.errors.DefinitionError: @local.task(timeout='5'): timeout must be a finite number of seconds above 0 and at most 2592000 (30 days), for example timeout=60; or None for no limit
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from glacier.errors import DefinitionError

__all__ = ["TaskOptions", "check_task_options", "MAX_WAIT", "MAX_TIMEOUT"]

#: The longest wait between two attempts, in seconds (a day).
MAX_WAIT = 86400.0
#: The longest task timeout, in seconds (30 days): beyond it waits overflow the clock.
MAX_TIMEOUT = 30 * 86400.0

_ALLOWED = {
    "name": "a Python identifier (letters, digits, underscores), for example name='clean_orders'",
    "retries": "a whole number >= 0, for example retries=3",
    "retry_delay": f"a finite number of seconds from 0 to {MAX_WAIT:.0f}, for example retry_delay=5",
    "backoff": "a finite number from 1 to 100 (the factor each wait grows by), for example backoff=2",
    "cache": "True or False",
    "timeout": (
        f"a finite number of seconds above 0 and at most {MAX_TIMEOUT:.0f} (30 days), "
        "for example timeout=60; or None for no limit"
    ),
    "reads": "a list of buckets made by provider.bucket(...), for example reads=[orders]",
    "writes": "a list of buckets made by provider.bucket(...), for example writes=[report]",
}


class TaskOptions(BaseModel):
    """The options of ``@executor.task(...)`` (strict: ``"5"`` is not 5, ``True`` is not 1)."""

    model_config = ConfigDict(strict=True, extra="forbid", arbitrary_types_allowed=True)

    name: str | None = None
    retries: Annotated[int, Field(ge=0)] = 0
    retry_delay: Annotated[float, Field(ge=0, le=MAX_WAIT, allow_inf_nan=False)] = 1.0
    backoff: Annotated[float, Field(ge=1, le=100, allow_inf_nan=False)] = 2.0
    cache: bool = False
    #: Kept as given (``5`` stays an int: shown as ``5 s``).
    timeout: Annotated[int | float, Field(gt=0, le=MAX_TIMEOUT, allow_inf_nan=False)] | None = None
    reads: tuple[Any, ...] = ()
    writes: tuple[Any, ...] = ()

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not value.isidentifier():
            raise ValueError("not an identifier")
        return value

    @field_validator("reads", "writes", mode="before")
    @classmethod
    def _buckets(cls, value: Any) -> Any:
        from glacier.resources.bucket import Bucket

        if not isinstance(value, list | tuple) or not all(isinstance(b, Bucket) for b in value):
            raise ValueError("not a list of buckets")
        return tuple(value)


def check_task_options(executor: str, options: Mapping[str, Any]) -> TaskOptions:
    """``options`` (as given to ``@executor.task``) validated; ``DefinitionError`` when they are not."""
    for key in options:
        if key not in TaskOptions.model_fields:
            close = difflib.get_close_matches(key, list(TaskOptions.model_fields), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"the options are {', '.join(_ALLOWED)}"
            raise DefinitionError(f"@{executor}.task(): unknown option {key!r}; {hint}")
    try:
        valid = TaskOptions(**options)
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0])
        value = options[field]
        allowed = _ALLOWED[field]
        if field in ("reads", "writes") and not isinstance(value, list | tuple):
            allowed += f" (a single bucket goes in a list: {field}=[...])"
        raise DefinitionError(f"@{executor}.task({field}={value!r}): {field} must be {allowed}") from None
    _check_schedule(executor, valid)
    return valid


def _check_schedule(executor: str, options: TaskOptions) -> None:
    """The last retry's wait, ``retry_delay * backoff ** (retries - 1)``, stays within a day."""
    if options.retries < 1 or options.retry_delay == 0:
        return
    log_wait = math.log(options.retry_delay) + (options.retries - 1) * math.log(options.backoff)
    if log_wait > math.log(MAX_WAIT) + 1e-9:
        wait = f"{math.exp(log_wait):.3g}" if log_wait < 700 else f"about 10**{log_wait / math.log(10):.0f}"
        raise DefinitionError(
            f"@{executor}.task(retries={options.retries}, retry_delay={options.retry_delay:g}, "
            f"backoff={options.backoff:g}): the longest wait before a retry would be {wait} s; keep it "
            f"within {MAX_WAIT:.0f} s (a day) with fewer retries, a smaller retry_delay or backoff"
        )
