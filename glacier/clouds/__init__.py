"""Everything Glacier knows about each cloud, one folder per cloud.

``CLOUDS`` names the clouds a pipeline can be exported to (``--cloud``).
"""

from __future__ import annotations

__all__ = ["CLOUDS"]

#: The clouds a pipeline can be exported to and rehearsed on, in display order.
CLOUDS: tuple[str, ...] = ("aws", "gcp", "azure")
