"""Frame I/O over fsspec and polars, with atomic writes."""

from __future__ import annotations

from glacier.storage.formats import FORMATS, format_of

__all__ = ["FORMATS", "format_of"]
