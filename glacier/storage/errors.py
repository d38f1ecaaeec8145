"""Turn what storage libraries raise into one-line ``StorageError`` messages.

Botocore, aiohttp, azure-core, gcsfs and polars each signal "no such object",
"access denied" and "cannot connect" differently; :func:`storage_errors` maps
them to a message naming the URI and what to check. Secrets are scrubbed from
anything that is echoed.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from glacier.errors import GlacierError, StorageError
from glacier.redact import environment_secrets, redact_urls, secret_variants

__all__ = ["Hints", "storage_errors", "classify", "scrub"]


@dataclass(frozen=True)
class Hints:
    """What a user should check, per cloud (shown in error messages)."""

    credentials: str = "the credentials"
    endpoint: str = "the endpoint"
    secrets: tuple[str, ...] = ()


_MISSING_BUCKET = re.compile(r"NoSuchBucket|ContainerNotFound|bucket does not exist|No such container", re.I)
_MISSING = re.compile(r"NoSuchKey|BlobNotFound|not ?found|No such file|does not exist|\b404\b", re.I)
_DENIED = re.compile(
    r"AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch|AuthorizationFailure|"
    r"AuthenticationFailed|Forbidden|Unauthorized|InvalidToken|ExpiredToken|\b40[13]\b|"
    r"credentials|NoCredentials",
    re.I,
)
_NOSPACE = re.compile(r"No space left|ENOSPC|os error 28|Errno 28|Disk quota exceeded", re.I)
_CORRUPT = re.compile(
    r"out of specification|not a parquet file|invalid parquet|InvalidFooter|magic bytes|"
    r"does not contain correct header|not an arrow file",
    re.I,
)
_SERVER = re.compile(
    r"Errno 121|InternalError|Internal Server Error|ServiceUnavailable|Service Unavailable|SlowDown|"
    # a status code, not a duration such as polars' "Error performing GET ... in 503.2ms"
    r"(?<![\d.])\b50[0234]\b(?!\.\d)|ServerTimeout|server error",
    re.I,
)
_SIGNING = re.compile(r"SigningError|Incorrect padding|Invalid base64|AuthenticationError|RefreshError", re.I)
#: polars errors that come from the user's plan, never from storage.
_PLAN_ERRORS = frozenset(
    {
        "ColumnNotFoundError",
        "SchemaError",
        "SchemaFieldNotFoundError",
        "StructFieldNotFoundError",
        "InvalidOperationError",
        "ShapeError",
        "DuplicateError",
        "OutOfBoundsError",
        "SQLInterfaceError",
        "SQLSyntaxError",
    }
)
#: ``name=value`` and header forms whose value is a credential.
_ASSIGNED = re.compile(
    r"((?:AccountKey|SharedAccessSignature|sig|secret[\w-]*|[\w-]*token|Credential|Signature)=|"
    r"(?:Bearer|Basic|SharedKey)\s+)[^;&\s,'\"<]+",
    re.I,
)
#: Packages whose exceptions are storage failures even when not ``OSError``s.
_STORAGE_LIBRARIES = frozenset(
    {"azure", "adlfs", "gcsfs", "google", "botocore", "boto3", "s3fs", "aiobotocore", "aiohttp", "fsspec"}
)
_UNREACHABLE = re.compile(
    r"Connect(ion)?(Error| refused|Timeout| reset| aborted)|Cannot connect|Could not connect|"
    r"EndpointConnectionError|ServiceRequestError|timed? ?out|Name or service not known|"
    r"ClientConnectorError|ServerDisconnected|Connection closed|ConnectionClosedError",
    re.I,
)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (and each form of it, see :func:`glacier.redact.secret_variants`,
    plus the credential variables' values) replaced by ``***``, URL passwords and secret
    assignments masked, squeezed to one line."""
    for secret in secret_variants([*secrets, *environment_secrets()]):
        text = text.replace(secret, "***")
    text = _ASSIGNED.sub(r"\1***", text)
    return " ".join(redact_urls(text).split())[:300]


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(out) < 8:
        out.append(current)
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return out


def classify(exc: BaseException) -> str | None:
    """The kind of storage failure ``exc`` is, or ``None`` when it is not one.

    Kinds: ``missing-bucket``, ``missing``, ``denied``, ``unreachable``, ``server``
    (5xx after retries), ``nospace``, ``corrupt``.
    """
    chain = _chain(exc)
    if type(exc).__name__ in _PLAN_ERRORS:
        return None
    for err in chain:
        name = type(err).__name__
        text = f"{name} {err}"
        if _MISSING_BUCKET.search(text):
            return "missing-bucket"
        if _NOSPACE.search(text):
            return "nospace"
        if isinstance(err, PermissionError) or _DENIED.search(name) or _SIGNING.search(text):
            return "denied"
        if isinstance(err, ConnectionError | TimeoutError) or _UNREACHABLE.search(name):
            return "unreachable"
        if isinstance(err, FileNotFoundError):
            return "missing"
    for err in chain:
        text = f"{type(err).__name__} {err}"
        if _CORRUPT.search(text):
            return "corrupt"
        if _SERVER.search(text):
            return "server"
        if _UNREACHABLE.search(text):
            return "unreachable"
        if _DENIED.search(text):
            return "denied"
        if _MISSING.search(text):
            return "missing"
    return None


@contextlib.contextmanager
def storage_errors(uri: str, action: str, hints: Hints, *, bucket: str = "") -> Iterator[None]:
    """Re-raise storage failures inside the block as one-line ``StorageError``.

    Errors that are not about storage (a polars compute error in the user's
    plan, a ``KeyboardInterrupt``) pass through unchanged.
    """
    try:
        yield
    except GlacierError:
        raise
    except Exception as exc:
        kind = classify(exc)
        if kind is None and not _storage_failure(exc, hints.secrets):
            raise
        if kind is None:
            error = StorageError(
                f"cannot {action} {uri}: {scrub(f'{type(exc).__name__}: {exc}', hints.secrets)}"
            )
        else:
            if kind == "missing" and action == "write":
                kind = "missing-bucket"  # nothing is read on a write: what is missing is the bucket
            error = StorageError(redact_urls(message(kind, uri, action, hints, bucket=bucket)))
    else:
        return
    try:
        raise error
    finally:  # the library's exception (its text may hold a secret) is not kept as the context
        error.__context__ = None


def _storage_failure(exc: BaseException, secrets: Iterable[str]) -> bool:
    """An unclassified error that is still the storage's: an ``OSError``, an exception of a
    storage library (azure-core's ``HttpResponseError``, gcsfs' ``HttpError``), or any error
    whose text holds a secret."""
    if isinstance(exc, OSError) or type(exc).__module__.split(".")[0] in _STORAGE_LIBRARIES:
        return True
    text = str(exc)
    return any(secret in text for secret in secret_variants([*secrets, *environment_secrets()]))


def message(kind: str, uri: str, action: str, hints: Hints, *, bucket: str = "") -> str:
    """The one-line message for a failure ``kind``."""
    if kind == "missing-bucket":
        return (
            f"cannot {action} {uri}: bucket {bucket!r} does not exist; create it "
            f"(or check the name and {hints.endpoint})"
        )
    if kind == "missing":
        return f"no object at {uri}: write it first or check the bucket and path"
    if kind == "nospace":
        return (
            f"cannot {action} {uri}: no space left on the device; free some space (or check {hints.endpoint})"
        )
    if kind == "corrupt":
        return (
            f"cannot {action} {uri}: it is not a valid file of the format its suffix names "
            "(corrupted, or another format); re-write it or fix its suffix"
        )
    if kind == "server":
        return (
            f"cannot {action} {uri}: the storage service kept failing (HTTP 5xx or dropped connections) "
            f"after retries; retry later, or check the service status and {hints.endpoint}"
        )
    if kind == "denied":
        return f"cannot {action} {uri}: access denied; check {hints.credentials}"
    return (
        f"cannot {action} {uri}: the storage endpoint is unreachable; check {hints.endpoint} and the network"
    )
