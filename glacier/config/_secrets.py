"""Keep secrets out of what a config shows: validation errors, reprs and dumps.

pydantic echoes the input of every failed field (``input_value='...'`` and
``errors()[i]["input"]``). :func:`masked_error` rebuilds a ``ValidationError`` with the
input of secret fields, of unknown fields (a misspelt ``secret_acces_key``) and of
secret-looking mapping keys replaced by ``'**********'``, and URL passwords masked in
every message.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from glacier.redact import MASK, redact_mapping, redact_urls, secret_key

__all__ = ["masked_error", "secret_fields", "shown"]


def secret_fields(cls: type[BaseModel]) -> frozenset[str]:
    """Names of ``cls``'s fields that hold a ``SecretStr``."""
    return frozenset(
        name
        for name, field in cls.model_fields.items()
        if field.annotation is SecretStr or SecretStr in getattr(field.annotation, "__args__", ())
    )


def shown(value: Any) -> Any:
    """A field value as it may be shown: URL passwords and secret mapping values masked."""
    return value if isinstance(value, SecretStr) else redact_mapping(value)


def masked_error(exc: ValidationError, cls: type[BaseModel]) -> ValidationError:
    """``exc`` with every secret input masked and unknown fields answered with the closest name."""
    secrets = secret_fields(cls)
    details: list[InitErrorDetails] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        field = loc[0] if loc and isinstance(loc[0], str) else ""
        value = err.get("input")
        hide = field in secrets or field not in cls.model_fields or any(secret_key(part) for part in loc)
        message = _clean(err["msg"], value if hide else None)
        if field and field not in cls.model_fields and err["type"] == "extra_forbidden":
            error: Any = PydanticCustomError("extra_forbidden", _unknown(field, cls))
        elif message != err["msg"] or hide:
            error = PydanticCustomError(err["type"], message)  # no context: braces stay as they are
        else:
            error = err["type"]
        detail: InitErrorDetails = {"type": error, "loc": loc, "input": MASK if hide else _clean_input(value)}
        if isinstance(error, str) and "ctx" in err:
            detail["ctx"] = err["ctx"]
        details.append(detail)
    return ValidationError.from_exception_data(exc.title, details, hide_input=True)


def _clean(message: str, secret: Any) -> str:
    if isinstance(secret, str) and len(secret) >= 4:
        message = message.replace(secret, MASK)
    return redact_urls(message)


def _clean_input(value: Any) -> Any:
    return redact_urls(value) if isinstance(value, str) else value


def _unknown(field: str, cls: type[BaseModel]) -> str:
    import difflib

    names = list(cls.model_fields)
    close = difflib.get_close_matches(field, names, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else f"the fields are: {', '.join(names)}"
    return f"unknown field {field!r} for {cls.__name__}; {hint}"
