"""Task options are validated when the task is declared (issue 19 item 11).

Each bad value fails at ``@executor.task(...)`` with one ``DefinitionError`` naming the
option, the value and what is allowed, before any run; before this, ``retry_delay=nan``
failed at the first retry (losing the task's own error), ``timeout="5"`` with a raw
``TypeError``, ``timeout=nan`` meant no timeout and ``retries=True``/``cache="yes"`` were
accepted.
"""

from __future__ import annotations

import math

import polars as pl
import pytest

from glacier import pipeline
from glacier.errors import DefinitionError

NAN, INF = float("nan"), float("inf")


def declare(executor, **options):
    @executor.task(**options)
    def step(x: int) -> int:
        return x + 1

    return step


@pytest.mark.parametrize(
    ("option", "value", "allowed"),
    [
        ("retry_delay", NAN, "finite number of seconds from 0 to 86400"),
        ("retry_delay", INF, "finite number of seconds from 0 to 86400"),
        ("retry_delay", 1e300, "finite number of seconds from 0 to 86400"),
        ("retry_delay", -1, "finite number of seconds from 0 to 86400"),
        ("retry_delay", "1", "finite number of seconds from 0 to 86400"),
        ("retry_delay", True, "finite number of seconds from 0 to 86400"),
        ("backoff", NAN, "finite number from 1 to 100"),
        ("backoff", 0.5, "finite number from 1 to 100"),
        ("backoff", "2", "finite number from 1 to 100"),
        ("retries", True, "whole number >= 0"),
        ("retries", -1, "whole number >= 0"),
        ("retries", 1.5, "whole number >= 0"),
        ("retries", "3", "whole number >= 0"),
        ("timeout", "5", "number of seconds above 0"),
        ("timeout", NAN, "number of seconds above 0"),
        ("timeout", INF, "number of seconds above 0"),
        ("timeout", 1e300, "number of seconds above 0"),
        ("timeout", 0, "number of seconds above 0"),
        ("timeout", -3, "number of seconds above 0"),
        ("timeout", True, "number of seconds above 0"),
        ("cache", "yes", "True or False"),
        ("cache", 1, "True or False"),
        ("cache", None, "True or False"),
        ("name", 5, "Python identifier"),
        ("name", "two words", "Python identifier"),
        ("reads", "s3://data/x.parquet", "list of buckets"),
        ("writes", [object()], "list of buckets"),
    ],
)
def test_bad_option_is_one_clear_error_at_declaration(local_provider, option, value, allowed):
    executor = local_provider.local()
    with pytest.raises(DefinitionError) as info:
        declare(executor, **{option: value})
    text = str(info.value)
    assert f"{option}={value!r}" in text  # the option and the value
    assert allowed in text  # what would be right
    assert "\n" not in text
    assert executor.tasks == ()  # nothing was declared


def test_a_single_bucket_for_reads_says_to_use_a_list(local_provider):
    bucket = local_provider.bucket(bucket="data", path="x.parquet")
    with pytest.raises(DefinitionError, match=r"reads=\[.*\]"):
        declare(local_provider.local(), reads=bucket)


def test_unknown_option_names_the_closest(local_provider):
    with pytest.raises(DefinitionError, match=r"unknown option 'retry'.*did you mean 'retries'"):
        declare(local_provider.local(), retry=3)


def test_a_retry_schedule_that_would_wait_for_ages_is_refused(local_provider):
    """retries=2000 doubling from 1 s used to overflow (``OverflowError``) at the 1025th retry."""
    with pytest.raises(DefinitionError, match=r"longest wait .* 86400") as info:
        declare(local_provider.local(), retries=2000, retry_delay=1, backoff=2)
    assert "retries=2000" in str(info.value)


def test_good_options_are_accepted_and_kept(local_provider):
    bucket = local_provider.bucket(bucket="data", path="x.parquet")
    step = declare(
        local_provider.local(),
        name="step_one",
        retries=3,
        retry_delay=0,
        backoff=1,
        timeout=0.5,
        cache=True,
        reads=[bucket],
    )
    assert (step.name, step.retries, step.retry_delay, step.backoff, step.timeout, step.cache) == (
        "step_one",
        3,
        0.0,
        1.0,
        0.5,
        True,
    )
    assert step.reads[0] is bucket
    assert declare(local_provider.local(), timeout=None, retry_delay=86400, retries=1).timeout is None


def test_the_task_error_is_kept_after_the_last_retry(local_provider):
    """What ``retry_delay=inf`` used to hide: with valid options the task's own error comes back."""
    executor = local_provider.local()
    calls = []

    @executor.task(retries=2, retry_delay=0)
    def flaky() -> pl.DataFrame:
        calls.append(1)
        raise ValueError("the real problem")

    @pipeline(name="flaky_p")
    def flaky_p():
        return flaky()

    with pytest.raises(Exception, match="the real problem"):
        flaky_p.run(mode="local")
    assert len(calls) == 3
    assert not math.isnan(executor.tasks[0].retry_delay)
