"""Interactive anywidget viewers: the pipeline DAG (``DagWidget``) and a provider's
resources (``ResourceWidget``). Their ES modules and CSS ship in ``static/`` (built
from ``js/`` with esbuild, dagre bundled): no CDN, no network, no lab extension."""

from __future__ import annotations

from glacier_jupyter.widgets.dag import DagWidget
from glacier_jupyter.widgets.payload import dag_payload, record_statuses
from glacier_jupyter.widgets.preview import preview_payload
from glacier_jupyter.widgets.resources import ResourceWidget, refresh_all, resource_tree

__all__ = [
    "DagWidget",
    "ResourceWidget",
    "dag_payload",
    "record_statuses",
    "preview_payload",
    "refresh_all",
    "resource_tree",
]
