"""``--param KEY=VALUE`` read by the pipeline's annotations (``glacier.cli.params``), the
parser ``glacier run`` and ``%glacier run`` share."""

from __future__ import annotations

import datetime
from typing import Literal

import polars as pl
import pytest

from glacier import pipeline
from glacier.cli.errors import UsageError
from glacier.cli.params import parse_params


@pytest.fixture
def typed(local_provider):
    ex = local_provider.local()

    @ex.task()
    def make(n: int) -> pl.LazyFrame:
        return pl.LazyFrame({"i": list(range(n))})

    @pipeline(name="typed")
    def typed(
        threshold: int,
        ratio: float = 0.5,
        flag: bool = False,
        label: str = "a",
        day: datetime.date = datetime.date(2024, 1, 1),
        at: datetime.datetime | None = None,
        limit: int | None = None,
        colour: Literal["red", "blue"] = "red",
        tags: list[int] | None = None,
        extra: dict | None = None,
        count=3,
        free=None,
    ):
        return make(threshold)

    return typed


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("threshold=4", 4),
        ("threshold=-2", -2),
        ("ratio=2", 2.0),
        ("flag=yes", True),
        ("flag=OFF", False),
        ("label=7", "7"),
        ("label=", ""),
        ("day=2024-02-01", datetime.date(2024, 2, 1)),
        ("at=2024-02-01T06:30", datetime.datetime(2024, 2, 1, 6, 30)),
        ("at=none", None),
        ("limit=null", None),
        ("limit=5", 5),
        ("colour=blue", "blue"),
        ("tags=[1, 2]", [1, 2]),
        ('extra={"a": 1}', {"a": 1}),
        ("count=8", 8),  # unannotated: the default's type
        ("free=3", 3),  # unannotated, no typed default: a JSON literal ...
        ("free=[1, 2]", [1, 2]),
        ("free=true", True),
        ("free=north", "north"),  # ... else the text
    ],
)
def test_values_convert_by_annotation(typed, item, expected):
    key = item.partition("=")[0]
    value = parse_params(typed, [item])[key]
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            "threshold=four",
            "--param threshold=four: 'four' is not a valid int (parameter 'threshold' of pipeline 'typed')",
        ),
        ("ratio=half", "'half' is not a valid float (parameter 'ratio'"),
        ("flag=maybe", "'maybe' is not a valid bool"),
        ("day=yesterday", "'yesterday' is not a valid date"),
        ("limit=many", "'many' is not a valid int | None"),
        ("colour=green", "'green' is not a valid Literal['red', 'blue']"),
        ('tags={"a": 1}', "is not a valid list[int] | None"),
        ("treshold=3", "pipeline 'typed' has no parameter 'treshold'; its parameters are: threshold, ratio"),
        ("treshold=3", "(did you mean 'threshold'?)"),
        ("threshold", "--param takes KEY=VALUE, not 'threshold'"),
        ("1x=3", "--param takes KEY=VALUE, not '1x=3'"),
    ],
)
def test_a_value_that_does_not_convert_is_one_clear_error(typed, item, message):
    with pytest.raises(UsageError) as info:
        parse_params(typed, [item])
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_string_annotations_are_resolved(local_provider, tmp_path):
    """A module with ``from __future__ import annotations`` (this one) still converts."""
    ex = local_provider.local()

    @ex.task()
    def one(n: int) -> pl.DataFrame:
        return pl.DataFrame({"n": [n]})

    @pipeline(name="later")
    def later(n: int, when: datetime.date):
        return one(n)

    assert isinstance(later.fn.__annotations__["n"], str)
    assert parse_params(later, ["n=2", "when=2024-03-04"]) == {"n": 2, "when": datetime.date(2024, 3, 4)}
