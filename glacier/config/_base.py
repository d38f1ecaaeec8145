"""Shared base for every Glacier config model."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    SecretStr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
)

from glacier.config._secrets import masked_error, shown

__all__ = ["GlacierConfig", "from_env", "check_pattern", "matching", "public_fields"]


class GlacierConfig(BaseModel):
    """Base of all configs: frozen, strict about unknown fields.

    A single positional ``...`` is accepted and means "defaults and the
    environment", so ``GcpConfig(...)`` works as the design document writes it.
    """

    # defer_build: validators are built on first use, keeping `import glacier` fast
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True, defer_build=True)

    #: The cloud it belongs to (``"aws"``, ``"gcp"``, ``"azure"``, ``"local"``), or ``""`` when
    #: it is not one cloud's (a base class, a cluster that runs on several).
    cloud: ClassVar[str] = ""
    #: Human name of the cloud service the config describes (for messages).
    service: ClassVar[str] = ""

    def __init_subclass__(
        cls, *, cloud: str | None = None, service: str | None = None, **kwargs: Any
    ) -> None:
        """A config class names its cloud and service in its header:
        ``class S3Config(StorageConfig, cloud="aws", service="Amazon S3")``."""
        super().__init_subclass__(**kwargs)
        if cloud is not None:
            cls.cloud = cloud
        if service is not None:
            cls.service = service

    def __init__(self, *args: Any, **data: Any) -> None:
        if args and not (len(args) == 1 and args[0] is Ellipsis):
            raise TypeError(
                f"{type(self).__name__} takes keyword arguments only, "
                f"e.g. {type(self).__name__}({_example(type(self))})"
            )
        try:
            super().__init__(**data)
        except ValidationError as exc:
            error = masked_error(exc, type(self))
        else:
            return
        raise error  # outside the except block: the unmasked error is not its context

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        # pydantic's lax mode reads True as 1: LambdaConfig(timeout=True) would be 1 second
        if (
            isinstance(value, bool)
            and info.field_name
            and _takes_int(cls.model_fields[info.field_name].annotation)
        ):
            raise ValueError(f"expected a whole number, not {value!r}")
        return value

    @field_serializer("*", mode="wrap")
    def _dump_shown(self, value: Any, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> Any:
        # dumps never hold a URL password or a secret conf value (SecretStr fields dump masked)
        return shown(handler(value))

    def public_dict(self) -> dict[str, Any]:
        """Fields as plain values, secrets masked (safe to show or export)."""
        return public_fields(self)

    def __repr_args__(self):  # type: ignore[override]
        # Only fields that differ from their defaults: short, readable reprs.
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            explicit = name in self.model_fields_set
            if field.repr and (explicit or value != field.get_default(call_default_factory=True)):
                yield name, shown(value)


def public_fields(model: BaseModel) -> dict[str, Any]:
    """Return ``model``'s fields with every ``SecretStr`` replaced by ``'**********'`` (and
    URL passwords and secret-looking mapping values masked)."""
    out: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretStr):
            value = "**********" if value.get_secret_value() else ""
        elif isinstance(value, BaseModel):
            value = public_fields(value)
        else:
            value = shown(value)
        out[name] = value
    return out


def _takes_int(annotation: Any) -> bool:
    return annotation is int or (
        int in getattr(annotation, "__args__", ()) and bool not in annotation.__args__
    )


def _example(cls: type[BaseModel]) -> str:
    for name, field in cls.model_fields.items():
        if field.is_required():
            return f"{name}=..."
    names = list(cls.model_fields)
    return f"{names[0]}=..." if names else ""


def from_env(*names: str, default: Any = None) -> Callable[[], Any]:
    """Default factory reading the first set environment variable of ``names``."""

    def factory() -> Any:
        for name in names:
            value = os.environ.get(name)
            if value:
                return value
        return default

    return factory


def check_pattern(value: str | None, pattern: str, what: str, example: str) -> str | None:
    """Validate ``value`` against ``pattern``; the error shows a valid example."""
    if value is None:
        return value
    if not re.fullmatch(pattern, value):
        raise ValueError(f"{value!r} is not a valid {what} (expected something like {example!r})")
    return value


def matching(pattern: str, what: str, example: str) -> AfterValidator:
    """A field check for ``Annotated[...]``: the value (or ``None``) must match ``pattern``.

    Examples
    --------
    >>> account_id = matching(r"\\d{12}", "AWS account id", "123456789012")
    >>> account_id.func("1234")
    Traceback (most recent call last):
    ...
    ValueError: '1234' is not a valid AWS account id (expected something like '123456789012')
    """

    def check(value: str | None) -> str | None:
        return check_pattern(value, pattern, what, example)

    return AfterValidator(check)
