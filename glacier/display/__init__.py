"""Rich display of Glacier objects (HTML/SVG/text) without importing IPython.

Each displayable class mixes in :class:`Displayable` and builds its own bundle in
``_bundle_()`` from the renderers here: :mod:`~glacier.display.dag` (the one DAG
renderer, also used by ``glacier dag``), :mod:`~glacier.display.runs`,
:mod:`~glacier.display.frames` and :mod:`~glacier.display.resources`. Every bundle has
``text/plain`` (a terminal shows it) and ``text/html``; none holds a secret (configs are
shown through their ``public_dict()``).
"""

from __future__ import annotations

from glacier.display.protocol import Displayable, mimebundle

__all__ = ["Displayable", "mimebundle"]
