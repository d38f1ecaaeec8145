"""Outputs that do not mislead: a DAG output keeps the run it showed (only the newest
widget of a pipeline follows its runs; a run's own widget stops when its run ends), a
run that fails before starting says so, the resource viewer follows its provider and
says what each task reads where a pipeline calls it, and a bare ``%glacier run`` shows
the result's table rather than polars' query plan."""

from __future__ import annotations

import polars as pl
import pytest

from glacier import pipeline
from glacier_jupyter.widgets import DagWidget, ResourceWidget, resource_tree


def _states(widget: DagWidget) -> set[str]:
    return {entry["s"] for entry in widget.statuses.values()}


def test_only_the_newest_widget_of_a_pipeline_follows_its_runs(ns) -> None:
    etl = ns["etl"]
    first = DagWidget(etl)
    assert first.following
    second = DagWidget(etl)
    assert not first.following and second.following
    etl.run()
    assert first.statuses == {} and first.run == {}  # what it showed: no run yet
    assert _states(second) == {"done"} and second.run["state"] == "done"


def test_a_runs_own_widget_keeps_that_run(ns) -> None:
    etl = ns["etl"]
    etl.run()
    mine = DagWidget(etl, record=None, follow="next")
    assert mine.statuses == {} and mine.run == {}  # not the previous run
    etl.run()
    shown = mine.run["id"]
    assert _states(mine) == {"done"} and not mine.following
    etl.run()
    assert mine.run["id"] == shown != etl.last_run.run_id


def test_a_run_that_fails_before_starting_says_so(ns) -> None:
    etl = ns["etl"]
    etl.run()
    mine = DagWidget(etl, record=None, follow="next")
    with pytest.raises(Exception, match="deployed cloud infrastructure"):
        etl.run(mode="distributed")  # lambda cannot run distributed without a deployment
    mine.fail("pipeline 'etl' cannot run with mode='distributed' here")
    assert mine.run["state"] == "failed" and "cannot run" in mine.run["error"]
    assert mine.statuses == {} and not mine.following


def test_follow_is_checked(ns) -> None:
    with pytest.raises(ValueError, match="follow='always'"):
        DagWidget(ns["etl"], follow="always")


def _task(tree: dict, task_id: str) -> dict:
    for group in tree["children"]:
        for item in group["children"]:
            for task in item["children"]:
                if task["id"] == task_id:
                    return task["details"]
    raise KeyError(task_id)


def test_the_resource_viewer_says_what_each_task_reads_where_a_pipeline_calls_it(ns) -> None:
    tree = resource_tree(ns["provider"])
    assert _task(tree, "task:local:extract")["reads"] == ["data/raw.parquet"]  # as the DAG draws it
    assert _task(tree, "task:local:save")["writes"] == ["data/clean.parquet"]
    assert _task(tree, "task:lambda:clean")["pipelines"] == ["etl"]


def test_the_resource_viewer_follows_its_provider(ns) -> None:
    provider = ns["provider"]
    viewer = ResourceWidget(provider)
    assert not viewer.refresh()  # nothing changed: nothing sent
    provider.bucket(bucket="data", path="extra.parquet")
    assert viewer.refresh()
    storage = viewer.tree["children"][0]
    assert storage["label"] == "Storage (3)"
    assert "data/extra.parquet" in [b["label"] for b in storage["children"]]


@pytest.fixture
def shell(ns):
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "glacier")
    saved = dict(ip.user_ns)
    ip.user_ns.update(ns)
    yield ip
    for name in list(ip.user_ns):
        if name not in saved:
            del ip.user_ns[name]
    ip.user_ns.update(saved)


def test_a_bare_glacier_run_shows_the_results_table(shell) -> None:
    bare = shell.run_cell("%glacier run etl")
    bare.raise_error()
    assert isinstance(bare.result, pl.DataFrame) and bare.result.height > 0
    assigned = shell.run_cell("result = %glacier run etl\nresult")
    assigned.raise_error()
    assert isinstance(assigned.result, pl.LazyFrame)  # what the pipeline returns, as before


def test_an_input_bucket_not_written_yet_is_marked_missing(ns, tmp_path) -> None:
    provider = ns["provider"]
    local = ns["local_exec"]
    absent = provider.bucket(bucket="data", path="absent.parquet")

    @local.task()
    def load(source) -> pl.LazyFrame:
        return source.scan()

    @pipeline(name="waiting")
    def waiting():
        return load(absent)

    rows = {row[0]: row for row in DagWidget(waiting).graph["nodes"]}
    assert rows["bucket:data/absent.parquet"][8] == 1
    rows = {row[0]: row for row in DagWidget(ns["etl"]).graph["nodes"]}
    assert rows["bucket:data/raw.parquet"][8] == 0  # written by the sample
    assert rows["bucket:data/clean.parquet"][8] == 0  # an output: not an input to wait for


def test_signatures_read_as_written_without_postponed_annotations(ns) -> None:
    local = ns["local_exec"]
    namespace: dict = {"pl": pl, "local": local}
    exec(  # a notebook cell: annotations are the classes themselves
        "@local.task()\ndef widen(df: pl.LazyFrame) -> pl.LazyFrame:\n    return df\n", namespace
    )
    widen = namespace["widen"]

    @pipeline(name="widened")
    def widened():
        return widen(ns["raw"])

    tips = DagWidget(widened).graph["tips"]
    assert "widen(df: pl.LazyFrame) -> pl.LazyFrame" in tips
    assert not [t for t in tips if "polars.lazyframe" in t]


def test_a_preview_carries_the_tasks_source_and_readable_floats(ns) -> None:
    from glacier_jupyter.widgets import preview_payload

    local = ns["local_exec"]

    @local.task()
    def halves(source) -> pl.LazyFrame:
        return source.scan().filter(pl.col("value") == 3).with_columns(h=pl.col("value") * 0.1)

    @pipeline(name="halved")
    def halved():
        return halves(ns["raw"])

    out = preview_payload(halved, "halves", 3)
    assert out["code"].startswith("    @local.task()\n    def halves(source)")
    h = out["columns"].index("h")
    assert {row[h] for row in out["rows"]} == {0.3}  # 3 * 0.1 reads 0.3, not 0.30000000000000004
    assert preview_payload(halved, "bucket:data/raw.parquet", 3)["code"] is None


def test_the_last_runs_side_by_side(ns) -> None:
    from glacier_jupyter import history

    etl = ns["etl"]
    history.start()
    try:
        for _ in range(3):
            etl.run()
    finally:
        history.stop()
    table = history.run_history(etl, n=2)
    assert table.columns[0] == "task" and len(table.columns) == 3  # the last two runs
    assert table["task"].to_list() == ["extract", "clean", "enrich", "save"]
    assert table.columns[2].startswith(etl.last_run.run_id[:6])
    assert all(cell.startswith("done · ") for cell in table[table.columns[1]].to_list())
    assert "42 rows" in table.filter(table["task"] == "enrich")[table.columns[2]].item()
    widget = DagWidget(etl)
    assert [run["id"] for run in widget.history][-1] == etl.last_run.run_id
    assert len(widget.history) == 3 and widget.history[0]["tasks"]["save"]["s"] == "done"


def test_the_widget_ends_on_the_run_records_figures(ns) -> None:
    etl = ns["etl"]
    widget = DagWidget(etl, record=None, follow="next")
    etl.run()
    record = etl.last_run
    for node, task in record.tasks.items():
        shown = widget.statuses[node]
        assert shown["s"] == task.status
        assert shown.get("r") == task.rows and shown.get("c") == task.compute and shown.get("n") == task.note
    assert "planned" not in _states(widget)  # every planned task was computed by the end
