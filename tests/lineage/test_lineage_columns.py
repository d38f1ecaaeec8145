"""Column lineage read from polars plans, against expectations derived by hand.

The pipeline (``tests.lineage.pipelines.sales``)::

    orders(order_id, customer_id, amount) -> extract -> valid: amount > 0 ─┐
    customers(customer_id, name, region) -> extract_2 ─────────────────────┴> enrich: join on customer_id
      -> by_region: group by region, revenue = sum(amount), orders = n_unique(order_id)
      -> report: rename region -> sales_region, revenue_cents = (revenue * 100) as int

By hand, the report's columns come from:
  sales_region  <- customers.region   DIRECT IDENTITY (a group key, renamed)
  revenue       <- orders.amount      DIRECT AGGREGATION
  orders        <- orders.order_id    DIRECT AGGREGATION, masking (a count of distinct values)
  revenue_cents <- orders.amount      DIRECT AGGREGATION (an aggregate, then arithmetic)
and every row depends on orders.amount (FILTER), orders.customer_id and customers.customer_id
(JOIN), customers.region (GROUP_BY).
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from glacier import Provider, pipeline
from glacier.lineage.model import Effect
from glacier.lineage.naming import DatasetId, from_uri
from glacier.lineage.plan import Leaf, analyse
from glacier.lineage.sources import FRAME_UNKNOWN
from tests.lineage.pipelines import sales
from tests.lineage.support import Receiver, SpecValidator


def _ref(field: dict[str, Any]) -> tuple[str, str, tuple[tuple[str, str, bool], ...]]:
    name = field["name"].rsplit("/", 1)[-1]
    steps = tuple((t["type"], t["subtype"], t["masking"]) for t in field["transformations"])
    return name, field["field"], steps


def _lineage(dataset: dict[str, Any]) -> tuple[dict[str, set[Any]], set[Any]]:
    facet = dataset["facets"]["columnLineage"]
    fields = {name: {_ref(f) for f in entry["inputFields"]} for name, entry in facet["fields"].items()}
    return fields, {_ref(f) for f in facet["dataset"]}


IDENTITY = (("DIRECT", "IDENTITY", False),)
AGGREGATION = (("DIRECT", "AGGREGATION", False),)
ROWS = {
    ("orders.parquet", "amount", (("INDIRECT", "FILTER", False),)),
    ("orders.parquet", "customer_id", (("INDIRECT", "JOIN", False),)),
    ("customers.parquet", "customer_id", (("INDIRECT", "JOIN", False),)),
    ("customers.parquet", "region", (("INDIRECT", "GROUP_BY", False),)),
}


def test_join_aggregate_rename_against_hand_derived_lineage(
    receiver: Receiver, validate: SpecValidator, local_provider: Provider
) -> None:
    shop = sales(local_provider)
    shop.saved.run()
    for event in receiver.events:
        validate(event)
    expected = {
        "sales_region": {("customers.parquet", "region", IDENTITY)},
        "revenue": {("orders.parquet", "amount", AGGREGATION)},
        "orders": {("orders.parquet", "order_id", (("DIRECT", "AGGREGATION", True),))},
        "revenue_cents": {("orders.parquet", "amount", AGGREGATION)},
    }
    report = receiver.final("sales_saved.report")["outputs"][0]
    assert report["name"] == "sales_saved.report"
    assert _lineage(report) == (expected, ROWS)
    # the bucket the report is written to has the same lineage (the frame written was the plan)
    saved = receiver.final("sales_saved.save")["outputs"][0]
    assert (saved["namespace"], saved["name"]) == ("file", shop.target.get_uri())
    assert _lineage(saved) == (expected, ROWS)
    assert saved["outputFacets"]["outputStatistics"]["size"] == (shop.target.fs.size(shop.target.get_uri()))
    # and so does the pipeline's own output, in its COMPLETE event
    assert _lineage(receiver.final("sales_saved")["outputs"][0]) == (expected, ROWS)
    # the join, one step earlier: every column as it was, rows decided by the filter and the join
    enrich = receiver.final("sales_saved.enrich")["outputs"][0]
    assert _lineage(enrich) == (
        {
            "order_id": {("orders.parquet", "order_id", IDENTITY)},
            "customer_id": {("orders.parquet", "customer_id", IDENTITY)},
            "amount": {("orders.parquet", "amount", IDENTITY)},
            "name": {("customers.parquet", "name", IDENTITY)},
            "region": {("customers.parquet", "region", IDENTITY)},
        },
        ROWS - {("customers.parquet", "region", (("INDIRECT", "GROUP_BY", False),))},
    )
    assert "extractionError" not in receiver.final("sales_saved.report")["run"]["facets"]


def test_a_python_function_is_reported_not_guessed(
    receiver: Receiver, validate: SpecValidator, local_provider: Provider
) -> None:
    ex = local_provider.local()
    source = local_provider.bucket(bucket="in", path="numbers.parquet")
    source.write(pl.DataFrame({"a": [1, 2], "b": [3, 4]}))

    @ex.task()
    def step(src) -> pl.LazyFrame:
        return src.scan().with_columns(
            c=pl.col("a").map_elements(lambda v: v * 10, return_dtype=pl.Int64), d=pl.col("a") + pl.col("b")
        )

    @ex.task()
    def whole(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.map_batches(lambda frame: frame.with_columns(pl.col("d") * 2))

    @pipeline(name="udfs")
    def udfs():
        first = step(source)
        return first, whole(first)

    with pytest.warns(pl.exceptions.PolarsInefficientMapWarning):
        udfs.run()
    for event in receiver.events:
        validate(event)
    step_out = receiver.final("udfs.step")
    fields, _rows = _lineage(step_out["outputs"][0])
    assert set(fields) == {"a", "b", "d"}  # c is left out, not given made-up inputs
    assert fields["d"] == {
        ("numbers.parquet", "a", (("DIRECT", "TRANSFORMATION", False),)),
        ("numbers.parquet", "b", (("DIRECT", "TRANSFORMATION", False),)),
    }
    errors = step_out["run"]["facets"]["extractionError"]
    assert (errors["totalTasks"], errors["failedTasks"]) == (4, 1)
    assert "columns c of glacier://glacier/udfs.step" in errors["errors"][0]["errorMessage"]
    assert "Python function" in errors["errors"][0]["errorMessage"]
    whole_out = receiver.final("udfs.whole")
    assert "columnLineage" not in whole_out["outputs"][0]["facets"]
    message = whole_out["run"]["facets"]["extractionError"]["errors"][0]["errorMessage"]
    assert "a Python function over the whole frame" in message


def test_eager_tasks(receiver: Receiver, local_provider: Provider) -> None:
    ex = local_provider.local()

    @ex.task()
    def made() -> pl.DataFrame:
        return pl.DataFrame({"x": [1, 2, 3]})

    @ex.task()
    def doubled(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.with_columns(y=pl.col("x") * 2)

    @pipeline(name="eager")
    def eager():
        return doubled(made())

    eager.run()
    made_out = receiver.final("eager.made")
    assert "columnLineage" not in made_out["outputs"][0]["facets"]
    assert "polars keeps no plan" in made_out["run"]["facets"]["extractionError"]["errors"][0]["errorMessage"]
    # the lazy task downstream scans that very frame: named as the upstream task's dataset
    fields, _ = _lineage(receiver.final("eager.doubled")["outputs"][0])
    assert fields == {
        "x": {("eager.made", "x", IDENTITY)},
        "y": {("eager.made", "x", (("DIRECT", "TRANSFORMATION", False),))},
    }


def _names(frame: Any) -> dict[str, dict[str, list[str]]]:
    return {
        col: {
            f"{f.dataset.name.rsplit('/', 1)[-1]}.{f.name}": sorted(e.subtype for e in eff)
            for f, eff in c.fields.items()
        }
        for col, c in frame.columns.items()
        if not c.unknown
    }


def _by_path(leaf: Leaf) -> DatasetId | str:
    if leaf.kind == "scan":
        found = from_uri(leaf.paths[0])
        assert found is not None
        return found
    return FRAME_UNKNOWN


@pytest.fixture
def tables(tmp_path: Any) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    pl.DataFrame({"id": [1, 2], "k": ["a", "b"], "v": [3, 4]}).write_parquet(tmp_path / "a.parquet")
    pl.DataFrame({"k": ["a", "b"], "w": [5, 6]}).write_parquet(tmp_path / "b.parquet")
    return pl.scan_parquet(tmp_path / "a.parquet"), pl.scan_parquet(tmp_path / "b.parquet")


def test_plan_reading_of_windows_conditions_and_masks(tables: tuple[pl.LazyFrame, pl.LazyFrame]) -> None:
    a, _ = tables
    frame = analyse(
        a.select(
            "id",
            total=pl.col("v").sum().over("k"),
            pick=pl.when(pl.col("v") > 3).then(pl.col("id")).otherwise(pl.lit(0)),
            hashed=pl.col("k").hash(),
            one=pl.lit(1),
        ).sort("id"),
        _by_path,
    )
    assert _names(frame) == {
        "id": {"a.parquet.id": ["IDENTITY"]},
        "total": {"a.parquet.v": ["AGGREGATION"], "a.parquet.k": ["WINDOW"]},
        "pick": {"a.parquet.id": ["TRANSFORMATION"], "a.parquet.v": ["CONDITIONAL"]},
        "hashed": {"a.parquet.k": ["TRANSFORMATION"]},
        "one": {},
    }
    assert list(frame.columns["hashed"].fields.values()) == [{Effect("DIRECT", "TRANSFORMATION", True)}]
    assert {f.name: sorted(s) for f, s in frame.dataset.items()} == {"id": ["SORT"]}


def test_plan_reading_of_joins_with_suffixes(tables: tuple[pl.LazyFrame, pl.LazyFrame]) -> None:
    a, b = tables
    frame = analyse(a.join(b.rename({"w": "v"}), on="k", how="left"), _by_path)
    assert _names(frame) == {
        "id": {"a.parquet.id": ["IDENTITY"]},
        "k": {"a.parquet.k": ["IDENTITY"]},
        "v": {"a.parquet.v": ["IDENTITY"]},
        "v_right": {"b.parquet.w": ["IDENTITY"]},
    }
    assert {f"{f.dataset.name.rsplit('/', 1)[-1]}.{f.name}": sorted(s) for f, s in frame.dataset.items()} == {
        "a.parquet.k": ["JOIN"],
        "b.parquet.k": ["JOIN"],
    }


def test_an_unnamed_in_memory_frame_says_so(tables: tuple[pl.LazyFrame, pl.LazyFrame]) -> None:
    a, _ = tables
    lookup = pl.DataFrame({"k": ["a"], "label": ["first"]}).lazy()
    frame = analyse(a.join(lookup, on="k"), _by_path)
    assert frame.columns["label"].unknown == (FRAME_UNKNOWN,)
    assert _names(frame)["v"] == {"a.parquet.v": ["IDENTITY"]}
