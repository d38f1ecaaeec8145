"""Column lineage of a ``pl.LazyFrame``, read from its optimised plan.

polars hands its optimised plan to Python through ``NodeTraverser`` (the interface its GPU
engine is built on): plan nodes with resolved schemas, and expressions with every column
name resolved. This module walks it bottom-up. Leaves (file scans, IO plugins, in-memory
frames) are named by a *resolver* the caller gives (it knows the pipeline's buckets and the
frames its tasks returned); every other node maps its output columns to its inputs'.

Where the plan cannot be read - a Python function over the whole frame (``map_batches``),
a scan polars does not describe, a node this module does not know - the columns it produces
carry the reason instead of fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from glacier.lineage.exprs import Deps, ExprReader, udf_reason
from glacier.lineage.model import IDENTITY, Column, Field, Frame, chain, combine, dedupe
from glacier.lineage.naming import DatasetId

__all__ = ["Leaf", "analyse", "Resolver", "KNOWN_VISITOR_MAJOR"]

#: The ``NodeTraverser.version()`` major this module was written against (polars 2.1).
KNOWN_VISITOR_MAJOR = 16


@dataclass(frozen=True)
class Leaf:
    """A plan leaf to name: ``kind`` is ``scan`` (``paths``), ``python`` (``function``) or
    ``frame`` (``frame``: an in-memory ``pl.DataFrame``)."""

    kind: str
    paths: tuple[str, ...] = ()
    function: Any = None
    frame: pl.DataFrame | None = None


#: ``resolver(leaf)`` -> the dataset, or a sentence saying why it has none.
Resolver = Callable[[Leaf], DatasetId | str]


def analyse(lf: pl.LazyFrame, resolver: Resolver) -> Frame:
    """The lineage of ``lf``'s output columns (raises only if polars cannot plan ``lf``)."""
    nt = lf._ldf.visit()
    root = nt.get_node()
    frame = _Walker(nt, resolver).run(root)
    nt.set_node(root)
    frame.schema = dict(nt.get_schema())
    return frame


def _post_order(nt: Any, root: int) -> tuple[list[int], dict[int, list[int]]]:
    inputs: dict[int, list[int]] = {}
    order: list[int] = []
    stack: list[tuple[int, bool]] = [(root, False)]
    while stack:
        node, ready = stack.pop()
        if ready:
            order.append(node)
            continue
        if node in inputs:
            continue
        nt.set_node(node)
        inputs[node] = list(nt.get_inputs())
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(inputs[node]))
    return order, inputs


class _Walker:
    def __init__(self, nt: Any, resolver: Resolver) -> None:
        self.nt = nt
        self.resolver = resolver
        self.exprs = ExprReader(nt)
        self.frames: dict[int, Frame] = {}

    def run(self, root: int) -> Frame:
        order, inputs = _post_order(self.nt, root)
        for node in order:
            self.nt.set_node(node)
            schema = list(self.nt.get_schema())
            ins = [self.frames[i] for i in inputs[node]]
            try:
                view = self.nt.view_current_node()
            except NotImplementedError as exc:
                self.frames[node] = self._opaque(schema, ins, _node_reason(str(exc)))
                continue
            self.frames[node] = self._frame(view, schema, ins)
        self.nt.set_node(root)
        return self.frames[root]

    # -- helpers -------------------------------------------------------------------------
    def column(self, deps: Deps, frame: Frame) -> Column:
        """An output column from expression dependencies on ``frame``'s columns."""
        out = Column(unknown=deps.unknown)
        for name, effects in deps.cols.items():
            source = frame.column(name)
            if source is None:
                out.unknown = dedupe((*out.unknown, f"column {name!r} is not in the plan's input"))
                continue
            out.unknown = dedupe((*out.unknown, *source.unknown))
            for field, inner in source.fields.items():
                out.add(field, {chain(o, i) for o in effects for i in inner})
        return out

    def expr(self, expr_ir: Any, frame: Frame) -> Column:
        return self.column(self.exprs.deps(expr_ir.node), frame)

    def touch(self, frame: Frame, nodes: Any, source: Frame, subtype: str) -> None:
        for expr_ir in nodes or ():
            frame.touch(self.expr(expr_ir, source), subtype)

    @staticmethod
    def _opaque(schema: list[str], ins: list[Frame], reason: str) -> Frame:
        out = combine(ins)
        out.columns = {name: Column(unknown=(reason,)) for name in schema}
        out.unknown = dedupe((*out.unknown, reason))
        return out

    def _leaf(self, leaf: Leaf, schema: list[str], generated: set[str]) -> Frame:
        found = self.resolver(leaf)
        if isinstance(found, str):
            return Frame({name: Column(unknown=(found,)) for name in schema}, unknown=(found,))
        columns = {
            name: Column() if name in generated else Column({Field(found, name): {IDENTITY}})
            for name in schema
        }
        return Frame(columns, source=found)

    # -- one node ------------------------------------------------------------------------
    def _frame(self, view: Any, schema: list[str], ins: list[Frame]) -> Frame:
        kind = type(view).__name__
        handler = getattr(self, f"_{kind}", None)
        if handler is None:
            return self._opaque(schema, ins, f"a polars plan node Glacier does not read yet ({kind})")
        return handler(view, schema, ins)

    def _Scan(self, view: Any, schema: list[str], ins: list[Frame]) -> Frame:
        options = view.file_options
        generated = {n for n in (_row_index(options), getattr(options, "include_file_paths", None)) if n}
        frame = self._leaf(Leaf("scan", tuple(view.paths)), schema, generated)
        if view.predicate is not None:
            frame.touch(self.expr(view.predicate, frame), "FILTER")
        return frame

    def _PythonScan(self, view: Any, schema: list[str], ins: list[Frame]) -> Frame:
        function, _columns, _kind, predicate, _n_rows = view.options
        frame = self._leaf(Leaf("python", function=function), schema, set())
        if isinstance(predicate, tuple) and predicate and predicate[0] == "polars":
            frame.touch(self.column(self.exprs.deps(predicate[1]), frame), "FILTER")
        return frame

    def _DataFrameScan(self, view: Any, schema: list[str], ins: list[Frame]) -> Frame:
        return self._leaf(Leaf("frame", frame=pl.DataFrame._from_pydf(view.df)), schema, set())

    def _SimpleProjection(self, view: Any, schema: list[str], ins: list[Frame]) -> Frame:
        return ins[0].with_columns({n: ins[0].column(n) or Column(unknown=(_missing(n),)) for n in schema})

    def _Select(self, view: Any, schema: list[str], ins: list[Frame]) -> Frame:
        return ins[0].with_columns({e.output_name: self.expr(e, ins[0]) for e in view.expr})

    def _Reduce(self, view: Any, schema: list[str], ins: list[Frame]) -> Frame:
        return ins[0].with_columns({e.output_name: self.expr(e, ins[0]) for e in view.exprs})

    def _HStack(self, view: Any, schema: list[str], ins: list[Frame]) -> Frame:
        columns = dict(ins[0].columns)
        columns.update({e.output_name: self.expr(e, ins[0]) for e in view.exprs})
        return ins[0].with_columns({n: columns.get(n) or Column(unknown=(_missing(n),)) for n in schema})

    def _same(self, view: Any, schema: list[str], ins: list[Frame]) -> Frame:
        return ins[0].with_columns(dict(ins[0].columns))

    _Slice = _Cache = _Sink = _same

    def _Filter(self, view: Any, schema: list[str], ins: list[Frame]) -> Frame:
        out = self._same(view, schema, ins)
        out.touch(self.expr(view.predicate, ins[0]), "FILTER")
        return out

    def _Sort(self, view: Any, schema: list[str], ins: list[Frame]) -> Frame:
        out = self._same(view, schema, ins)
        self.touch(out, view.by_column, ins[0], "SORT")
        return out

    def _Distinct(self, view: Any, schema: list[str], ins: list[Frame]) -> Frame:
        out = self._same(view, schema, ins)
        subset = view.options[1] or list(ins[0].columns)
        for name in subset:
            out.touch(ins[0].column(name) or Column(unknown=(_missing(name),)), "GROUP_BY")
        return out

    def _GroupBy(self, view: Any, schema: list[str], ins: list[Frame]) -> Frame:
        source = ins[0]
        out = source.with_columns({})
        for key in view.keys:
            column = self.expr(key, source)
            out.columns[key.output_name] = column
            out.touch(column, "GROUP_BY")
        for agg in view.aggs:
            out.columns[agg.output_name] = self.expr(agg, source).upgraded("AGGREGATION")
        out.columns = {n: out.columns.get(n) or Column(unknown=(_missing(n),)) for n in schema}
        return out

    def _Join(self, view: Any, schema: list[str], ins: list[Frame]) -> Frame:
        left, right = ins
        how_option, _nulls, _slice, suffix, coalesce, _order = view.options
        how = how_option[0] if isinstance(how_option, tuple) else how_option
        out = combine(ins)
        left_keys = [self.expr(e, left) for e in view.left_on]
        right_keys = [self.expr(e, right) for e in view.right_on]
        for key in (*left_keys, *right_keys):
            out.touch(key, "JOIN")
        if isinstance(how_option, tuple) and how == "AsOf":
            for side, names in ((left, how_option[4]), (right, how_option[5])):
                for name in names or ():
                    out.touch(side.column(name) or Column(unknown=(_missing(name),)), "JOIN")
        right_key_names = {e.output_name for e in view.right_on}
        for name in schema:
            out.columns[name] = _join_column(name, left, right, how, suffix, coalesce, right_key_names)
        if getattr(view, "predicate", None) is not None:
            both = Frame({**{f"{k}{suffix}": v for k, v in right.columns.items()}, **left.columns})
            both.columns.update({k: v for k, v in right.columns.items() if k not in left.columns})
            out.touch(self.expr(view.predicate, both), "JOIN")
        return out

    def _Union(self, view: Any, schema: list[str], ins: list[Frame]) -> Frame:
        out = combine(ins)
        for name in schema:
            column = Column()
            for frame in ins:
                column = column.merged(frame.column(name) or Column(unknown=(_missing(name),)))
            out.columns[name] = column
        return out

    def _HConcat(self, view: Any, schema: list[str], ins: list[Frame]) -> Frame:
        out = combine(ins)
        pieces = [column for frame in ins for column in frame.columns.values()]
        if len(pieces) != len(schema):
            return self._opaque(schema, ins, "a horizontal concatenation whose columns do not line up")
        out.columns = dict(zip(schema, pieces, strict=True))
        return out

    def _MergeSorted(self, view: Any, schema: list[str], ins: list[Frame]) -> Frame:
        out = self._Union(view, schema, ins)
        for name in view.key if isinstance(view.key, list) else [view.key]:
            for frame in ins:
                out.touch(frame.column(name) or Column(unknown=(_missing(name),)), "SORT")
        return out

    def _Gather(self, view: Any, schema: list[str], ins: list[Frame]) -> Frame:
        out = self._same(view, schema, ins)
        for frame in ins[1:]:
            for column in frame.columns.values():
                out.touch(column, "FILTER")
        return out

    def _MapFunction(self, view: Any, schema: list[str], ins: list[Frame]) -> Frame:
        function = view.function
        name = function[0] if isinstance(function, tuple) and function else str(function)
        source = ins[0] if ins else Frame()
        columns = dict(source.columns)
        if name in ("rechunk", "hint_sorted"):
            pass
        elif name == "explode":
            for col in function[1]:
                if col in columns:
                    columns[col] = columns[col].upgraded("TRANSFORMATION")
        elif name == "row_index":
            columns[function[1]] = Column()
        elif name == "unnest":
            nested = Column()
            for col in function[1]:
                nested = nested.merged(columns.pop(col, Column(unknown=(_missing(col),))))
            nested = nested.upgraded("TRANSFORMATION")
            columns.update({n: nested for n in schema if n not in columns})
        elif name == "unpivot":
            index, on, variable, value = function[1], function[2], function[3], function[4]
            on = on or [n for n in source.columns if n not in index]
            melted = Column()
            for col in on:
                melted = melted.merged(source.column(col) or Column(unknown=(_missing(col),)))
            columns = {n: source.columns[n] for n in index if n in source.columns}
            columns[str(variable)] = Column()
            columns[str(value)] = melted.upgraded("TRANSFORMATION")
        elif name == "fast_count":
            return self._leaf(Leaf("scan", tuple(function[1])), schema, set(schema))
        else:
            return self._opaque(schema, ins, f"a polars plan function Glacier does not read yet ({name})")
        return source.with_columns({n: columns.get(n) or Column(unknown=(_missing(n),)) for n in schema})


def _join_column(
    name: str, left: Frame, right: Frame, how: str, suffix: str, coalesce: bool, right_keys: set[str]
) -> Column:
    in_left, in_right = name in left.columns, name in right.columns
    if how == "Right" and coalesce and in_right and name in right_keys:
        return right.columns[name]
    if in_left:
        column = left.columns[name]
        if how == "Full" and coalesce and in_right and name in right_keys:
            return column.merged(right.columns[name]).upgraded("TRANSFORMATION")
        return column
    if in_right:
        return right.columns[name]
    if suffix and name.endswith(suffix) and name[: -len(suffix)] in right.columns:
        return right.columns[name[: -len(suffix)]]
    return Column(unknown=(_missing(name),))


def _row_index(options: Any) -> str | None:
    try:
        found = options.row_index
    except Exception:
        return None
    return found[0] if found else None


def _missing(name: str) -> str:
    return f"column {name!r} could not be traced through the plan"


def _node_reason(message: str) -> str:
    if message == "opaque python mapfunction":
        return "a Python function over the whole frame (map_batches, or a plugin) produces it"
    if message == "ipc scan":
        return "a scan of Arrow IPC files, which polars does not describe to Python"
    if message.startswith("apply inside GroupBy"):
        return "a Python function per group (map_groups) produces it"
    if message in ("anonymousfunction", "anonymous_streaming_agg"):
        return udf_reason(message)
    return f"a polars plan node that polars does not describe to Python ({message.splitlines()[0][:80]})"
