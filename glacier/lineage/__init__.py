"""OpenLineage events from every run, with column lineage read from the polars plans.

Turned on by the OpenLineage client's own configuration (``OPENLINEAGE_URL``,
``OPENLINEAGE__TRANSPORT__*``, ``OPENLINEAGE_CONFIG`` or an ``openlineage.yml``); off, and
free, otherwise: this module imports only the standard library until a configured run starts.
Install the client with ``pip install "glacier-pipelines[lineage]"``. See ``docs/lineage.md``.

Examples
--------
>>> import os
>>> os.environ["OPENLINEAGE_URL"] = "http://localhost:5000"  # doctest: +SKIP
>>> etl.run()  # sends START/COMPLETE for "etl" and for each "etl.<task>"  # doctest: +SKIP
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from glacier.lineage.config import configured, job_namespace

if TYPE_CHECKING:
    from glacier.graph import Graph
    from glacier.run.events import RunEvent
    from glacier.run.record import RunRecord

__all__ = ["observe_run", "flush", "configured", "job_namespace"]

_MISSING = (
    "OpenLineage is configured but its client is not installed, so no lineage is sent: "
    'pip install "glacier-pipelines[lineage]"'
)


def flush(timeout: float | None = None) -> bool:
    """Wait until the events of every finished run are sent (or dropped); ``False`` on timeout.

    Events are built and sent in the background: a run does not wait for them, and the
    process waits for them when it exits.
    """
    if "glacier.lineage.sender" not in sys.modules:
        return True
    from glacier.lineage.sender import flush as _flush

    return _flush(timeout)


def observe_run(
    graph: Graph, record: RunRecord, values: Callable[[], Mapping[str, Any]]
) -> Callable[[RunEvent], None] | None:
    """The subscriber that sends this run's OpenLineage events; ``None`` when not configured.

    ``values()`` gives the run's task outputs (node id -> value) as they are known.
    """
    if not configured():
        return None
    if importlib.util.find_spec("openlineage.client") is None:
        from glacier.lineage.sender import warn_once

        warn_once("missing-client", _MISSING)
        return None
    from glacier.lineage.observer import RunLineage

    return RunLineage(graph, record, values)
