"""Hide credentials inside text: passwords in URLs, secret query parameters, secret-looking keys.

Used wherever Glacier shows a value it did not make itself (a config's URL field, an
endpoint named in a storage error, a library's message).

Examples
--------
>>> redact_urls("http://user:hunter2@127.0.0.1:9000/data")
'http://user:***@127.0.0.1:9000/data'
>>> redact_urls("https://s3.example.com/x?X-Amz-Security-Token=abc&part=1")
'https://s3.example.com/x?X-Amz-Security-Token=***&part=1'
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = [
    "ENV_SECRETS",
    "MASK",
    "environment_secrets",
    "redact_mapping",
    "redact_urls",
    "secret_key",
    "secret_variants",
]

#: What a hidden value is shown as (the same as pydantic's ``SecretStr``).
MASK = "**********"

#: ``scheme://userinfo@``: the userinfo ends at the last ``@`` before the host's path.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<info>[^/?#\s@'\"]*(?:@[^/?#\s@'\"]*)*)@")
_SECRET_PARAM = re.compile(
    r"(?P<name>[?&;](?:[\w.-]*(?:token|secret|password|passwd|signature|credential|apikey|api_key)"
    r"|sig|key|code|AccountKey|SharedAccessSignature)=)[^&;#\s'\"]+",
    re.I,
)
#: Mapping keys whose values are secrets (``spark.hadoop.fs.s3a.secret.key``, ``api_token`` ...).
_SECRET_KEY = re.compile(
    r"secret|passw|token|credential|private|apikey|api_key|sas|(^|[._-])key($|[._-])|accountkey", re.I
)


def _userinfo(match: re.Match[str]) -> str:
    user, colon, _ = match.group("info").partition(":")
    return f"{match.group('scheme')}{user}:***@" if colon else f"{match.group('scheme')}***@"


def redact_urls(text: str) -> str:
    """``text`` with the password (or token user) of every URL and every secret query value masked."""
    if "://" not in text and "=" not in text:
        return text
    return _SECRET_PARAM.sub(r"\g<name>***", _USERINFO.sub(_userinfo, text))


def secret_key(key: object) -> bool:
    """Whether a mapping key names a secret value (``fs.s3a.secret.key``, ``password``)."""
    return isinstance(key, str) and bool(_SECRET_KEY.search(key))


def redact_mapping(value: Any) -> Any:
    """A copy of ``value`` (any nesting of dicts, lists, tuples and strings) safe to show:
    values under secret-looking keys masked, URL passwords masked in every string."""
    if isinstance(value, str):
        return redact_urls(value)
    if isinstance(value, dict):
        return {k: MASK if secret_key(k) else redact_mapping(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_mapping(v) for v in value)
    return value


#: Standard variables that hold credentials (read by the clouds' own credential chains).
ENV_SECRETS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AZURE_STORAGE_KEY",
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_CLIENT_SECRET",
    "DATABRICKS_TOKEN",
)


def environment_secrets() -> list[str]:
    """The values of :data:`ENV_SECRETS` that are set."""
    return [value for name in ENV_SECRETS if (value := os.environ.get(name))]


def secret_variants(secrets: Iterable[str]) -> list[str]:
    """Every form a secret may take in a library's message, longest first.

    The secret itself, URL-encoded and JSON-escaped; for a JSON key file (a GCP
    service account) each secret-looking value and each line of its PEM key; for a
    connection string its ``AccountKey``.
    """
    out: set[str] = set()
    for secret in secrets:
        for part in _parts(secret):
            if len(part) >= 4:
                out.update({part, quote(part, safe=""), quote_plus(part), json.dumps(part)[1:-1]})
    return sorted(out, key=len, reverse=True)


def _parts(secret: str) -> list[str]:
    parts = [secret]
    text = secret.strip()
    if text.startswith("{"):
        try:
            info = json.loads(text)
        except ValueError:
            info = None
        if isinstance(info, dict):
            for key, value in info.items():
                if isinstance(value, str) and secret_key(key):
                    parts.extend(_parts(value))
    if "-----BEGIN" in text:
        parts.extend(line for line in text.splitlines() if len(line) >= 16 and "-----" not in line)
    parts.extend(re.findall(r"AccountKey=([^;]+)", text))
    return parts
