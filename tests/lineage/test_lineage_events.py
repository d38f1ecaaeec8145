"""Run events as OpenLineage events: nesting, states, datasets, and the spec's schemas.

Every event here comes through the OpenLineage client's real HTTP transport to a receiver on
127.0.0.1 and is validated against the spec's JSON schemas (``schemas/``).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from glacier import PipelineError, Provider, pipeline
from glacier.config import DaskConfig, LocalConfig
from tests.lineage.pipelines import sales
from tests.lineage.support import Receiver, SpecValidator

TASKS = ["extract", "extract_2", "valid", "enrich", "by_region", "report"]


def _check_nesting(got: Receiver, pipeline_name: str, namespace: str = "glacier") -> str:
    """Every task run names the pipeline run as parent and root; returns the parent run id."""
    parent = got.of(pipeline_name)
    run_id = parent[0]["run"]["runId"]
    assert {e["run"]["runId"] for e in parent} == {run_id}
    for event in got.events:
        assert event["job"]["namespace"] == namespace
        if event["job"]["name"] == pipeline_name:
            assert "parent" not in event["run"]["facets"]
            continue
        assert event["job"]["name"].startswith(pipeline_name + ".")
        facet = event["run"]["facets"]["parent"]
        assert facet["run"]["runId"] == run_id
        assert (facet["job"]["namespace"], facet["job"]["name"]) == (namespace, pipeline_name)
        assert facet["root"]["run"]["runId"] == run_id
    return run_id


def test_local_run_sends_valid_nested_events(
    receiver: Receiver, validate: SpecValidator, local_provider: Provider
) -> None:
    shop = sales(local_provider)
    shop.pipeline.run()
    for event in receiver.events:
        validate(event)
    assert receiver.types("sales") == ["START", "COMPLETE"]
    assert receiver.events[0]["job"]["name"] == "sales"
    assert receiver.events[-1]["job"]["name"] == "sales"
    for task in TASKS:
        assert receiver.types(f"sales.{task}") == ["START", "COMPLETE"], task
    _check_nesting(receiver, "sales")
    # task runs are distinct runs
    task_runs = {receiver.final(f"sales.{t}")["run"]["runId"] for t in TASKS}
    assert len(task_runs) == len(TASKS)
    # the tags carry Glacier's own run id and where each task ran
    tags = {t["key"]: t["value"] for t in receiver.final("sales.valid")["run"]["facets"]["tags"]["tags"]}
    assert tags["glacier.run_id"] == shop.pipeline.last_run.run_id
    assert tags["glacier.executor"] == "local"
    assert tags["glacier.cached"] == "false"


def test_datasets_of_tasks_and_of_the_pipeline(receiver: Receiver, local_provider: Provider) -> None:
    shop = sales(local_provider)
    shop.saved.run()
    orders = ("file", shop.orders.get_uri())
    customers = ("file", shop.customers.get_uri())
    report = ("file", shop.target.get_uri())

    def names(event: dict, side: str) -> list[tuple[str, str]]:
        return [(d["namespace"], d["name"]) for d in event[side]]

    memory = "glacier://glacier"
    assert names(receiver.final("sales_saved.extract"), "inputs") == [orders]
    assert names(receiver.final("sales_saved.extract"), "outputs") == [(memory, "sales_saved.extract")]
    assert names(receiver.final("sales_saved.extract_2"), "inputs") == [customers]
    assert names(receiver.final("sales_saved.enrich"), "inputs") == [
        (memory, "sales_saved.valid"),
        (memory, "sales_saved.extract_2"),
    ]
    # save returns an int: its output is the bucket it writes, nothing in memory
    assert names(receiver.final("sales_saved.save"), "inputs") == [(memory, "sales_saved.report")]
    assert names(receiver.final("sales_saved.save"), "outputs") == [report]
    parent = receiver.final("sales_saved")
    assert sorted(names(parent, "inputs")) == sorted([orders, customers])
    assert names(parent, "outputs") == [report]
    # START already names what the graph knows
    start = receiver.of("sales_saved.save")[0]
    assert start["eventType"] == "START" and names(start, "outputs") == [report]


def test_output_statistics_and_schema_from_the_run(receiver: Receiver, local_provider: Provider) -> None:
    shop = sales(local_provider)
    result = shop.pipeline.run().collect()
    out = receiver.final("sales.report")["outputs"][0]
    assert out["outputFacets"]["outputStatistics"]["rowCount"] == result.height == 2
    fields = out["facets"]["schema"]["fields"]
    assert [(f["name"], f["type"]) for f in fields] == [(n, str(t)) for n, t in result.schema.items()]
    # an intermediate lazy output fused into the final collect: computed, its rows from the
    # collection's per-node metrics (the run record's figure)
    valid = receiver.final("sales.valid")
    assert valid["eventType"] == "COMPLETE"
    from tests.lineage.pipelines import ORDERS

    rows = ORDERS.filter(pl.col("amount") > 0).height
    assert shop.pipeline.last_run["valid"].rows == rows
    assert valid["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"] == rows
    assert [f["name"] for f in valid["outputs"][0]["facets"]["schema"]["fields"]] == [
        "order_id",
        "customer_id",
        "amount",
    ]


def test_namespace_from_openlineage_namespace(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, local_provider: Provider
) -> None:
    monkeypatch.setenv("OPENLINEAGE_NAMESPACE", "analytics")
    sales(local_provider).pipeline.run()
    _check_nesting(receiver, "sales", namespace="analytics")
    assert receiver.final("sales.report")["outputs"][0]["namespace"] == "glacier://analytics"


def test_failing_run_sends_fail_for_the_task_and_the_pipeline(
    receiver: Receiver, validate: SpecValidator, local_provider: Provider
) -> None:
    ex = local_provider.local()

    @ex.task()
    def numbers() -> pl.DataFrame:
        return pl.DataFrame({"x": [1, 2, 3]})

    @ex.task()
    def explode(df: pl.DataFrame) -> pl.DataFrame:
        raise ValueError("bad row 2")

    @ex.task()
    def after(df: pl.DataFrame) -> pl.DataFrame:
        return df

    @pipeline(name="breaks")
    def breaks():
        return after(explode(numbers()))

    with pytest.raises(PipelineError):
        breaks.run()
    for event in receiver.events:
        validate(event)
    assert receiver.types("breaks") == ["START", "FAIL"]
    assert receiver.types("breaks.numbers") == ["START", "COMPLETE"]
    assert receiver.types("breaks.explode") == ["START", "FAIL"]
    assert receiver.types("breaks.after") == []  # skipped: it never ran
    failed = receiver.final("breaks.explode")["run"]["facets"]["errorMessage"]
    assert failed["message"] == "ValueError: bad row 2"
    assert failed["programmingLanguage"] == "PYTHON"
    assert "explode" in receiver.final("breaks")["run"]["facets"]["errorMessage"]["message"]
    _check_nesting(receiver, "breaks")


def test_ctrl_c_sends_abort(receiver: Receiver, validate: SpecValidator, local_provider: Provider) -> None:
    ex = local_provider.local()

    @ex.task()
    def interrupted() -> int:
        raise KeyboardInterrupt

    @pipeline(name="stopped")
    def stopped():
        return interrupted()

    with pytest.raises(KeyboardInterrupt):
        stopped.run()
    for event in receiver.events:
        validate(event)
    assert receiver.types("stopped") == ["START", "ABORT"]
    assert receiver.types("stopped.interrupted") == ["START", "ABORT"]


def test_cached_run(
    receiver: Receiver, validate: SpecValidator, local_provider: Provider, tmp_path: Path
) -> None:
    from glacier.run.cache import set_cache_dir

    set_cache_dir(tmp_path / "cache")
    try:
        shop = sales(local_provider, cache=True)
        first = shop.pipeline.run().collect()
        receiver.events.clear()
        second = shop.pipeline.run().collect()
    finally:
        set_cache_dir(None)
    assert first.equals(second)
    for event in receiver.events:
        validate(event)
    assert receiver.types("sales") == ["START", "COMPLETE"]
    for task in TASKS:
        final = receiver.final(f"sales.{task}")
        assert final["eventType"] == "COMPLETE"
        tags = {t["key"]: t["value"] for t in final["run"]["facets"]["tags"]["tags"]}
        assert tags["glacier.cached"] == "true", task
    report = receiver.final("sales.report")["outputs"][0]
    assert report["outputFacets"]["outputStatistics"]["rowCount"] == 2
    assert [f["name"] for f in report["facets"]["schema"]["fields"]] == list(second.columns)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
def test_distributed_run(receiver: Receiver, validate: SpecValidator, tmp_path: Path) -> None:
    provider = Provider(config=LocalConfig(base_path=str(tmp_path / "data")))
    local_exec = provider.local()
    dask_exec = provider.cluster(config=DaskConfig(address=None, n_workers=1))
    raw = provider.bucket(bucket="lake", path="raw.parquet")
    published = provider.bucket(bucket="lake", path="published.parquet")
    raw.write(pl.DataFrame({"id": [1, 2, 3], "value": [1.0, None, 3.0]}))

    @local_exec.task()
    def extract(source) -> pl.LazyFrame:
        return source.scan()

    @dask_exec.task()
    def clean(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.filter(pl.col("value").is_not_null())

    @local_exec.task()
    def score(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.with_columns((pl.col("value") * 2).alias("double"))

    @dask_exec.task()
    def publish(df: pl.LazyFrame, out) -> int:
        out.write(df.select("id", total=pl.col("double").sum()))
        return 1

    @pipeline(name="scored")
    def scored():
        return publish(score(clean(extract(raw))), published)

    assert scored.run(mode="distributed") == 1
    for event in receiver.events:
        validate(event)
    assert receiver.types("scored") == ["START", "COMPLETE"]
    for task in ("extract", "clean", "score", "publish"):
        assert receiver.types(f"scored.{task}") == ["START", "COMPLETE"], task
    _check_nesting(receiver, "scored")
    tags = {t["key"]: t["value"] for t in receiver.final("scored")["run"]["facets"]["tags"]["tags"]}
    assert tags["glacier.mode"] == "distributed"
    assert receiver.final("scored.clean")["inputs"] == [
        {"namespace": "glacier://glacier", "name": "scored.extract", "facets": {}, "inputFacets": {}}
    ]

    def lineage(dataset: dict) -> tuple[dict, list]:
        facet = dataset["facets"]["columnLineage"]
        fields = {
            name: sorted(
                (f["name"], f["field"], f["transformations"][0]["subtype"]) for f in entry["inputFields"]
            )
            for name, entry in facet["fields"].items()
        }
        return fields, sorted(
            (f["name"], f["field"], f["transformations"][0]["subtype"]) for f in facet["dataset"]
        )

    # read on the Dask worker, where the plan was: the input is the frame shipped from extract
    assert lineage(receiver.final("scored.clean")["outputs"][0]) == (
        {"id": [("scored.extract", "id", "IDENTITY")], "value": [("scored.extract", "value", "IDENTITY")]},
        [("scored.extract", "value", "FILTER")],
    )
    # a bucket written on the worker: its lineage came back with the task's result
    written = receiver.final("scored.publish")["outputs"][0]
    assert (written["namespace"], written["name"]) == ("file", published.get_uri())
    assert lineage(written)[0] == {
        "id": [("scored.score", "id", "IDENTITY")],
        "total": [("scored.score", "double", "AGGREGATION")],
    }
    assert written["outputFacets"]["outputStatistics"]["size"] > 0
