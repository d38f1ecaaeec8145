"""What column lineage is made of: effects, fields, columns, and how they compose.

An output column depends on input dataset fields, each through *effects* named as the
OpenLineage column-lineage facet names them: ``DIRECT`` (``IDENTITY``,
``TRANSFORMATION``, ``AGGREGATION``) when the value comes from the field, ``INDIRECT``
(``FILTER``, ``JOIN``, ``GROUP_BY``, ``SORT``, ``WINDOW``, ``CONDITIONAL``) when the field
only decides which rows or which value. Filters, joins, grouping and sorting touch every
column of a frame: they are kept once per frame (``dataset``), not repeated per column.

A column whose origin cannot be read from the plan (a Python function, an expression polars
does not describe) carries the reasons in ``unknown`` and is never given made-up fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from glacier.lineage.naming import DatasetId

__all__ = [
    "Effect",
    "Field",
    "Column",
    "Frame",
    "IDENTITY",
    "direct",
    "indirect",
    "chain",
    "dedupe",
    "simplest",
    "combine",
]

DIRECT_ORDER = {"IDENTITY": 0, "TRANSFORMATION": 1, "AGGREGATION": 2}


class Effect(NamedTuple):
    """How an output depends on an input: ``(type, subtype, masking)``."""

    type: str
    subtype: str
    masking: bool = False


class Field(NamedTuple):
    """One field of one input dataset."""

    dataset: DatasetId
    name: str


IDENTITY = Effect("DIRECT", "IDENTITY")


def direct(subtype: str, masking: bool = False) -> Effect:
    return Effect("DIRECT", subtype, masking)


def indirect(subtype: str) -> Effect:
    return Effect("INDIRECT", subtype)


def chain(outer: Effect, inner: Effect) -> Effect:
    """The effect of ``outer`` applied to a value that has ``inner`` on its source."""
    if outer.type == "INDIRECT":
        return outer
    if inner.type == "INDIRECT":
        return inner
    subtype = max(outer.subtype, inner.subtype, key=DIRECT_ORDER.__getitem__)
    return Effect("DIRECT", subtype, outer.masking or inner.masking)


def dedupe(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def simplest(effects: set[Effect]) -> list[Effect]:
    """One direct effect (the strongest) plus every indirect one, in a stable order."""
    directs = [e for e in effects if e.type == "DIRECT"]
    out: list[Effect] = []
    if directs:
        top = max(directs, key=lambda e: (DIRECT_ORDER[e.subtype], e.masking))
        out.append(Effect("DIRECT", top.subtype, any(e.masking for e in directs if e.subtype == top.subtype)))
    out.extend(sorted({e for e in effects if e.type == "INDIRECT"}))
    return out


@dataclass
class Column:
    """The input fields one column depends on (or why that is unknown)."""

    fields: dict[Field, set[Effect]] = field(default_factory=dict)
    unknown: tuple[str, ...] = ()

    def add(self, source: Field, effects: Iterable[Effect]) -> None:
        self.fields.setdefault(source, set()).update(effects)

    def merged(self, other: Column) -> Column:
        out = Column({k: set(v) for k, v in self.fields.items()}, dedupe((*self.unknown, *other.unknown)))
        for source, effects in other.fields.items():
            out.add(source, effects)
        return out

    def upgraded(self, subtype: str, masking: bool = False) -> Column:
        """This column after a transformation or aggregation of its values."""
        step = direct(subtype, masking)
        return Column(
            {k: {chain(step, e) for e in v} for k, v in self.fields.items()},
            self.unknown,
        )


@dataclass
class Frame:
    """The lineage of one plan node's output: its columns and what touches all its rows."""

    columns: dict[str, Column] = field(default_factory=dict)
    dataset: dict[Field, set[str]] = field(default_factory=dict)
    unknown: tuple[str, ...] = ()
    #: A leaf's dataset: any of its fields may be referenced (a pushed-down predicate).
    source: DatasetId | None = None
    #: The output schema (name -> polars dtype), set on the frame a plan analysis returns.
    schema: dict[str, Any] | None = None

    def column(self, name: str) -> Column | None:
        found = self.columns.get(name)
        if found is None and self.source is not None:
            return Column({Field(self.source, name): {IDENTITY}})
        return found

    def with_columns(self, columns: dict[str, Column]) -> Frame:
        """The same rows (same dataset-wide lineage) with other columns."""
        return Frame(columns, {k: set(v) for k, v in self.dataset.items()}, self.unknown)

    def touch(self, column: Column, subtype: str) -> None:
        """Record that ``column``'s sources decide which rows this frame holds."""
        for source in column.fields:
            self.dataset.setdefault(source, set()).add(subtype)
        if column.unknown:
            self.unknown = dedupe((*self.unknown, *column.unknown))


def combine(frames: Iterable[Frame]) -> Frame:
    """Dataset-wide lineage of several inputs (a join, a union): everything of each."""
    out = Frame()
    for frame in frames:
        for source, subtypes in frame.dataset.items():
            out.dataset.setdefault(source, set()).update(subtypes)
        out.unknown = dedupe((*out.unknown, *frame.unknown))
    return out
