"""Property tests: every config class validates arbitrary field values or says which field is wrong.

For every field of every public config class, hypothesis draws values (valid ones from
the documented limits, boundary values, and junk of every type). The outcome is always
one of two things:

- the config is built, and the stored value respects the documented limits (the
  ``ge``/``le`` bounds of the field, its ``Literal`` choices, the pattern its validator
  checks, which is written out below as the specification);
- pydantic's ``ValidationError`` is raised and names the field.

Never another exception, never an out-of-range value accepted silently.
"""

from __future__ import annotations

import math
import re
import types
import typing
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError

import glacier.config as gc

ABSTRACT = {"GlacierConfig", "ProviderConfig", "StorageConfig", "ExecutionConfig"}
CONFIGS = [getattr(gc, name) for name in gc.__all__ if name not in ABSTRACT]

_AWS_REGION = r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}"
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_URL = r"https?://\S+"

#: The specification: what each validated string field must look like once accepted.
PATTERNS: dict[tuple[str, str], str] = {
    ("AwsConfig", "region"): _AWS_REGION,
    ("AwsConfig", "account_id"): r"\d{12}",
    ("AwsConfig", "endpoint_url"): _URL,
    ("GcpConfig", "project_id"): r"[a-z][a-z0-9-]{4,28}[a-z0-9]",
    ("GcpConfig", "region"): r"[a-z]+-[a-z]+\d{1,2}",
    ("GcpConfig", "endpoint_url"): _URL,
    ("AzureConfig", "subscription_id"): _UUID,
    ("AzureConfig", "tenant_id"): _UUID,
    ("AzureConfig", "location"): r"[a-z]+[a-z0-9]*",
    ("AzureConfig", "resource_group"): r"[-\w.()]{0,89}[-\w()]",
    ("AzureConfig", "storage_account"): r"[a-z0-9]{3,24}",
    ("AzureConfig", "endpoint_url"): _URL,
    ("LocalConfig", "base_path"): r"(?s)[^\x00]*\S[^\x00]*",  # not blank, no NUL
    ("S3Config", "endpoint_url"): _URL,
    ("EC2Config", "instance_type"): r"[a-z][a-z0-9-]*\.[a-z0-9]+",
    ("EC2Config", "ami"): r"ami-[0-9a-f]{8}([0-9a-f]{9})?",
    ("ComputeEngineConfig", "machine_type"): r"[a-z][a-z0-9]*-[a-z0-9-]+",
    ("ComputeEngineConfig", "zone"): r"[a-z]+-[a-z]+\d{1,2}-[a-z]",
    ("AzureVMConfig", "vm_size"): r"(Standard|Basic)_[A-Za-z0-9_]+",
    ("AzureVMConfig", "image"): r"[^:\s]+:[^:\s]+:[^:\s]+:[^:\s]+",
    ("DatabricksConfig", "host"): r"https://\S+",
    ("SparkConfig", "executor_memory"): r"0*[1-9]\d*[kmgtKMGT]",  # more than zero
    ("EMRConfig", "release_label"): r"emr-\d+\.\d+\.\d+",
    ("DaskConfig", "address"): r"(tcp|tls|inproc|ucx|ws|wss)://\S+",
    ("DaskConfig", "memory_limit"): r"auto|\d+(\.\d+)?\s*([kKmMgGtT]i?[bB])",
}

FIELDS = [(cls, name) for cls in CONFIGS for name in cls.model_fields]

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.binary(max_size=8),
    st.lists(st.text(max_size=4), max_size=3),
    st.dictionaries(st.text(max_size=4), st.one_of(st.text(max_size=4), st.integers()), max_size=3),
    st.sampled_from(["", " ", "\x00", "auto", "us-east-1", "../..", "0g", "1GiB", "-1", "1e3", "NaN"]),
)


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """``(inner annotation, optional)`` for ``X | None``."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return (args[0] if len(args) == 1 else annotation), True
    return annotation, False


def _bounds(field: Any) -> tuple[float | None, float | None]:
    ge = le = None
    for meta in field.metadata:
        ge = getattr(meta, "ge", ge)
        le = getattr(meta, "le", le)
    return ge, le


def field_values(cls: type, name: str) -> st.SearchStrategy[Any]:
    """Values worth trying for one field: its valid space, its edges, and junk."""
    field = cls.model_fields[name]
    inner, _ = _unwrap(field.annotation)
    options = [JUNK]
    ge, le = _bounds(field)
    if ge is not None or le is not None:
        lo = int(ge) if ge is not None else -(2**31)
        hi = int(le) if le is not None else 2**31
        options += [
            st.integers(lo, hi),
            st.sampled_from([lo - 1, lo, hi, hi + 1, float(lo), float(hi) + 0.5, str(lo), str(hi + 1)]),
        ]
    if typing.get_origin(inner) is Literal:
        choices = list(typing.get_args(inner))
        options.append(
            st.sampled_from(choices + [str(c).upper() for c in choices] + [str(c) + " " for c in choices])
        )
    pattern = PATTERNS.get((cls.__name__, name))
    if pattern is not None:
        options.append(st.from_regex(pattern, fullmatch=True))
    return st.one_of(options)


def check_accepted(cls: type, name: str, given: Any, config: Any) -> None:
    """The value a config kept respects the field's documented limits."""
    field = cls.model_fields[name]
    value = getattr(config, name)
    inner, optional = _unwrap(field.annotation)
    if value is None:
        assert optional, f"{cls.__name__}.{name} accepted None but is not optional"
        return
    ge, le = _bounds(field)
    if ge is not None:
        assert value >= ge, f"{cls.__name__}({name}={given!r}) accepted below {ge}"
    if le is not None:
        assert value <= le, f"{cls.__name__}({name}={given!r}) accepted above {le}"
    if inner is int:
        assert type(value) is int
        assert not isinstance(given, bool), f"{cls.__name__}({name}={given!r}) read a bool as a number"
        if isinstance(given, float):
            assert math.isfinite(given) and given == value
    if typing.get_origin(inner) is Literal:
        assert value in typing.get_args(inner), f"{cls.__name__}.{name}={value!r} is not a documented choice"
    if inner is SecretStr:
        assert isinstance(value, SecretStr)
    pattern = PATTERNS.get((cls.__name__, name))
    if pattern is not None:
        assert isinstance(value, str) and re.fullmatch(pattern, value), (
            f"{cls.__name__}({name}={given!r}) accepted a value outside {pattern!r}"
        )


def check_rejected(cls: type, names: set[str], exc: ValidationError) -> None:
    """Every error points at one of the fields given, and the message names it."""
    errors = exc.errors()
    assert errors
    text = str(exc)
    for error in errors:
        assert error["loc"], error
        assert error["loc"][0] in names, f"{cls.__name__}: error {error} names no given field ({names})"
        assert str(error["loc"][0]) in text


SETTINGS = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)


@pytest.mark.parametrize(("cls", "name"), FIELDS, ids=[f"{c.__name__}.{n}" for c, n in FIELDS])
@SETTINGS
@given(data=st.data())
def test_one_field_validates_or_names_itself(cls, name, data):
    value = data.draw(field_values(cls, name), label=name)
    try:
        config = cls(**{name: value})
    except ValidationError as exc:
        check_rejected(cls, {name}, exc)
        return
    check_accepted(cls, name, value, config)


@pytest.mark.parametrize("cls", CONFIGS, ids=[c.__name__ for c in CONFIGS])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_many_fields_at_once(cls, data):
    names = data.draw(st.sets(st.sampled_from(sorted(cls.model_fields)), min_size=1), label="fields")
    values = {name: data.draw(field_values(cls, name), label=name) for name in sorted(names)}
    try:
        config = cls(**values)
    except ValidationError as exc:
        check_rejected(cls, names, exc)
        return
    for name, value in values.items():
        check_accepted(cls, name, value, config)


@pytest.mark.parametrize(("cls", "name"), FIELDS, ids=[f"{c.__name__}.{n}" for c, n in FIELDS])
def test_every_documented_choice_and_bound_is_accepted(cls, name):
    """The other direction: nothing inside the documented limits is refused."""
    field = cls.model_fields[name]
    inner, _ = _unwrap(field.annotation)
    ge, le = _bounds(field)
    samples: list[Any] = []
    if typing.get_origin(inner) is Literal:
        samples += list(typing.get_args(inner))
    if ge is not None:
        samples.append(int(ge))
    if le is not None:
        samples.append(int(le))
    for value in samples:
        config = cls(**{name: value})
        assert getattr(config, name) == value


def test_unknown_field_is_named():
    for cls in CONFIGS:
        with pytest.raises(ValidationError) as info:
            cls(no_such_field=1)
        assert "no_such_field" in str(info.value)
