"""A lazy scan over fsspec files, for stores polars cannot read natively (GCS).

The result is a real ``pl.LazyFrame`` (a polars IO plugin): nothing is fetched
until it is collected, projected columns are the only ones decoded, the
predicate is applied per file and ``head(n)`` stops fetching once it has ``n``
rows. Hive partition values in the paths (``year=2024/``) become columns, typed
as polars types them (integer, else float, else string).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import polars as pl

from glacier.storage.io import HIVE_NULL, read_bytes

__all__ = ["scan_files", "hive_values"]


def hive_values(rel: str) -> dict[str, str | None]:
    """``{"year": "2024"}`` from ``"year=2024/part-0.parquet"``."""
    out: dict[str, str | None] = {}
    for part in rel.split("/")[:-1]:
        key, sep, value = part.partition("=")
        if sep and key:
            out[key] = None if value == HIVE_NULL else unquote(value)
    return out


def _hive_dtype(values: list[str | None]) -> pl.DataType:
    present = [v for v in values if v is not None]
    series = pl.Series(present, dtype=pl.String)
    if present and series.str.to_integer(strict=False).null_count() == 0:
        return pl.Int64()
    if present and series.cast(pl.Float64, strict=False).null_count() == 0:
        return pl.Float64()
    return pl.String()


def scan_files(
    fs: Any, paths: list[str], fmt: str, *, base: str, hive: bool = True, **kwargs: Any
) -> pl.LazyFrame:
    """A ``LazyFrame`` over ``paths`` (read with ``fs``) in format ``fmt``.

    ``base`` is the dataset folder the hive keys are relative to.
    """
    from polars.io.plugins import register_io_source

    base = base.rstrip("/")
    rels = [p[len(base) + 1 :] if p.startswith(base + "/") else p.rsplit("/", 1)[-1] for p in paths]
    parts = [hive_values(r) if hive else {} for r in rels]
    keys = list(dict.fromkeys(k for p in parts for k in p))
    hive_types = {k: _hive_dtype([p.get(k) for p in parts]) for k in keys}
    cache: dict[str, pl.DataFrame] = {}

    def load(path: str, columns: list[str] | None = None) -> pl.DataFrame:
        if path in cache:
            df = cache.pop(path)
            return df.select(columns) if columns is not None else df
        data = io.BytesIO(fs.cat_file(path))
        if fmt in ("parquet", "ipc") and columns is not None:
            return read_bytes(data, fmt, columns=columns, **kwargs)
        df = read_bytes(data, fmt, **kwargs)
        return df.select(columns) if columns is not None else df

    def file_schema() -> pl.Schema:
        first = paths[0]
        if fmt == "parquet":
            return pl.read_parquet_schema(io.BytesIO(fs.cat_file(first)))
        df = load(first)
        cache[first] = df
        return df.schema

    schema_box: list[pl.Schema] = []
    inner_names: set[str] = set()

    def schema() -> pl.Schema:
        if not schema_box:
            inner = file_schema()
            inner_names.update(inner)
            full = dict(inner)
            for key, dtype in hive_types.items():
                if key not in full:
                    full[key] = dtype
            schema_box.append(pl.Schema(full))
        return schema_box[0]

    def source(
        with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None, batch_size: int | None
    ) -> Iterator[pl.DataFrame]:
        full = schema()
        names = list(full) if with_columns is None else list(with_columns)
        needed = list(names)
        if predicate is not None:
            needed += [c for c in predicate.meta.root_names() if c not in needed]
        file_cols = [c for c in needed if c in inner_names]
        remaining = n_rows
        for path, hive_part in zip(paths, parts, strict=True):
            if remaining is not None and remaining <= 0:
                return
            df = load(path, file_cols)
            extra = [
                pl.lit(hive_part.get(k), dtype=pl.String).cast(hive_types[k]).alias(k)
                for k in needed
                if k in hive_types and k not in df.columns
            ]
            if extra:
                df = df.with_columns(extra)
            if predicate is not None:
                df = df.filter(predicate)
            df = df.select(names)
            if remaining is not None:
                df = df.head(remaining)
                remaining -= df.height
            yield df

    return register_io_source(source, schema=schema, explain_name="glacier-fsspec", is_pure=True)
