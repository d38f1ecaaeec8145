"""Whether OpenLineage is configured, read the way the OpenLineage client reads it.

Nothing here imports the client: a run asks :func:`configured` (a few environment
lookups and two ``stat`` calls) and only a configured run loads it. The sources are
the client's own, in its order: ``OPENLINEAGE_DISABLED=true`` turns everything off;
otherwise a config file (``OPENLINEAGE_CONFIG``, ``./openlineage.yml``,
``~/.openlineage/openlineage.yml``), ``OPENLINEAGE__*`` variables (for example
``OPENLINEAGE__TRANSPORT__TYPE=http``) or ``OPENLINEAGE_URL`` turn it on.

The job namespace is ``OPENLINEAGE_NAMESPACE`` (the variable the Airflow, dbt and
Spark integrations read), ``glacier`` when unset.
"""

from __future__ import annotations

import os

__all__ = ["configured", "disabled", "job_namespace", "config_key", "DEFAULT_NAMESPACE"]

#: The job namespace when ``OPENLINEAGE_NAMESPACE`` is not set.
DEFAULT_NAMESPACE = "glacier"
#: Variables the client itself writes into the environment from ``OPENLINEAGE_URL`` (it
#: aliases the URL as a transport named ``default_http``): left over once the URL is unset,
#: they configure nothing.
_ALIASES = "OPENLINEAGE__TRANSPORT__TRANSPORTS__DEFAULT_HTTP__"


def _config_file() -> str | None:
    for path in (
        os.environ.get("OPENLINEAGE_CONFIG"),
        os.path.join(os.getcwd(), "openlineage.yml"),
        os.path.join(os.path.expanduser("~"), ".openlineage", "openlineage.yml"),
    ):
        if path and os.path.isfile(path):
            return path
    return None


def disabled() -> bool:
    """``OPENLINEAGE_DISABLED=true`` (the client's switch, case-insensitive)."""
    return os.environ.get("OPENLINEAGE_DISABLED", "").strip().lower() == "true"


def configured() -> bool:
    """Whether a run should send OpenLineage events (no import of the client)."""
    if disabled():
        return False
    if os.environ.get("OPENLINEAGE_URL"):
        return True
    if any(name.startswith("OPENLINEAGE__") and not name.startswith(_ALIASES) for name in os.environ):
        return True
    return _config_file() is not None


def config_key() -> tuple[object, ...]:
    """What the client's configuration is read from: a client is reused while it is unchanged."""
    path = _config_file()
    mtime = os.stat(path).st_mtime_ns if path else None
    env = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("OPENLINEAGE")))
    return (path, mtime, os.getcwd(), env)


def job_namespace() -> str:
    """The namespace of Glacier's jobs: ``OPENLINEAGE_NAMESPACE``, else ``glacier``."""
    return os.environ.get("OPENLINEAGE_NAMESPACE", "").strip() or DEFAULT_NAMESPACE
