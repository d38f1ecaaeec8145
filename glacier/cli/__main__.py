"""``python -m glacier.cli``: the same as the ``glacier`` command."""

from __future__ import annotations

import sys

from glacier.cli import main

sys.exit(main())
