"""Which input columns a polars expression reads, and how (one node of the optimised plan).

Expressions are read from polars' plan visitor (``NodeTraverser.view_expression``): every
name in them is already resolved (no wildcards, selectors or renames left). The answer for an
expression is :class:`Deps`: input column -> effects. An expression polars does not describe
to Python, a Python function (``map_elements``) above all, gives a reason in ``unknown``
instead of columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from glacier.lineage.model import IDENTITY, Effect, chain, dedupe, direct, indirect

__all__ = ["Deps", "ExprReader", "AGGREGATIONS", "MASKING"]

#: Expression functions whose value comes from many rows (an aggregation in all but name).
AGGREGATIONS = frozenset(
    {
        "product",
        "quantile",
        "mode",
        "entropy",
        "kurtosis",
        "skew",
        "null_count",
        "approx_n_unique",
        "arg_max",
        "arg_min",
        "arg_unique",
        "corr",
        "cum_count",
        "cum_max",
        "cum_min",
        "cum_prod",
        "cum_sum",
        "cum_fold",
        "cum_reduce",
        "unique_counts",
        "value_counts",
        "hist",
        "rank",
        "rle",
        "rle_id",
        "top_k",
        "top_k_by",
        "pct_change",
        "interpolate_by",
    }
)

#: Functions and aggregations whose result does not show the input values (a hash, a count).
MASKING = frozenset(
    {
        "hash",
        "count",
        "n_unique",
        "approx_n_unique",
        "null_count",
        "cum_count",
        "arg_max",
        "arg_min",
        "arg_unique",
        "unique_counts",
        "rle_id",
        "agg_groups",
    }
)

_UDF = {"anonymousfunction", "anonymous_streaming_agg"}


@dataclass
class Deps:
    """Input column -> how the expression's value depends on it."""

    cols: dict[str, set[Effect]] = field(default_factory=dict)
    unknown: tuple[str, ...] = ()

    def merge(self, *others: Deps) -> Deps:
        out = Deps({k: set(v) for k, v in self.cols.items()}, self.unknown)
        for other in others:
            for name, effects in other.cols.items():
                out.cols.setdefault(name, set()).update(effects)
            out.unknown = dedupe((*out.unknown, *other.unknown))
        return out

    def then(self, subtype: str, masking: bool = False) -> Deps:
        """These inputs after a transformation or aggregation of their values."""
        step = direct(subtype, masking)
        return Deps({k: {chain(step, e) for e in v} for k, v in self.cols.items()}, self.unknown)

    def as_indirect(self, subtype: str) -> Deps:
        """These inputs only decide (filter, order, condition): an indirect effect."""
        return Deps({k: {indirect(subtype)} for k in self.cols}, self.unknown)


def udf_reason(message: str) -> str:
    if message in _UDF:
        return "a Python function (map_elements, map_batches or a UDF) computes it"
    return f"an expression polars does not describe to Python ({message})"


def function_name(function_data: Any) -> str:
    """``'rank'`` from ``('rank', ...)``; ``'stringfunction.uppercase'`` from an enum."""
    head = function_data[0] if isinstance(function_data, tuple) and function_data else function_data
    return str(head).lower()


class ExprReader:
    """Reads the expressions of one plan (memoised: plans share sub-expressions)."""

    def __init__(self, nt: Any) -> None:
        self.nt = nt
        self._memo: dict[int, Deps] = {}

    def deps(self, node: int) -> Deps:
        found = self._memo.get(node)
        if found is None:
            try:
                found = self._read(node)
            except NotImplementedError as exc:
                found = Deps(unknown=(udf_reason(str(exc)),))
            except RecursionError:
                found = Deps(unknown=("an expression nested too deeply to read",))
            self._memo[node] = found
        return found

    def _many(self, nodes: Any) -> Deps:
        return Deps().merge(*(self.deps(n) for n in nodes or ()))

    def _read(self, node: int) -> Deps:
        expr = self.nt.view_expression(node)
        kind = type(expr).__name__
        if kind == "Column":
            return Deps({str(expr.name): {IDENTITY}})
        if kind in ("Literal", "Len"):
            return Deps()
        if kind == "Alias":
            return self.deps(expr.expr)
        if kind == "Cast":
            return self.deps(expr.expr).then("TRANSFORMATION")
        if kind == "BinaryExpr":
            return self.deps(expr.left).merge(self.deps(expr.right)).then("TRANSFORMATION")
        if kind == "Ternary":
            values = self.deps(expr.truthy).merge(self.deps(expr.falsy)).then("TRANSFORMATION")
            return values.merge(self.deps(expr.predicate).as_indirect("CONDITIONAL"))
        if kind == "Agg":
            name = str(expr.name).lower()
            return self._many(expr.arguments).then("AGGREGATION", name in MASKING)
        if kind == "Function":
            name = function_name(expr.function_data)
            subtype = "AGGREGATION" if name in AGGREGATIONS else "TRANSFORMATION"
            return self._many(expr.input).then(subtype, name in MASKING)
        if kind == "Filter":
            return self.deps(expr.input).merge(self.deps(expr.by).as_indirect("FILTER"))
        if kind == "Sort":
            return self.deps(expr.expr).then("TRANSFORMATION")
        if kind == "SortBy":
            return self.deps(expr.expr).then("TRANSFORMATION").merge(self._many(expr.by).as_indirect("SORT"))
        if kind == "Gather":
            return (
                self.deps(expr.expr).then("TRANSFORMATION").merge(self.deps(expr.idx).as_indirect("FILTER"))
            )
        if kind == "Slice":
            bounds = self.deps(expr.offset).merge(self.deps(expr.length))
            return self.deps(expr.input).merge(bounds.as_indirect("FILTER"))
        if kind == "Explode":
            return self.deps(expr.expr).then("TRANSFORMATION")
        if kind == "Window":
            order = self.deps(expr.order_by) if expr.order_by is not None else Deps()
            keys = self._many(expr.partition_by).merge(order)
            return self.deps(expr.function).merge(keys.as_indirect("WINDOW"))
        if kind == "Rolling":
            return self.deps(expr.function).merge(self.deps(expr.index_column).as_indirect("WINDOW"))
        if kind == "StructEval":
            inner = Deps().merge(*(self.deps(e.node) for e in expr.evaluation))
            return self.deps(expr.expr).merge(inner).then("TRANSFORMATION")
        return Deps(unknown=(f"a polars expression Glacier does not read yet ({kind})",))
