"""A preview runs only the node and its upstream tasks through the run lifecycle, and leaves
the pipeline's ``last_run`` as it was (issue 19: the preview tests the suite lacked)."""

from __future__ import annotations

import polars as pl
import pytest

from glacier import PipelineError, pipeline
from glacier.preview import preview


@pytest.fixture
def etl(local_provider):
    ex = local_provider.local()
    ran: list[str] = []
    raw = local_provider.bucket(bucket="raw", path="in.parquet")
    out = local_provider.bucket(bucket="curated", path="out.parquet")
    raw.write(pl.DataFrame({"a": [3, 1, 2]}))

    @ex.task()
    def extract(src) -> pl.LazyFrame:
        ran.append("extract")
        return src.scan()

    @ex.task()
    def clean(df: pl.LazyFrame) -> pl.LazyFrame:
        ran.append("clean")
        return df.sort("a")

    @ex.task()
    def publish(df: pl.LazyFrame, target) -> int:
        ran.append("publish")
        target.write(df)
        return 1

    @pipeline(name="etl")
    def etl_pipeline():
        return publish(clean(extract(raw)), out)

    return etl_pipeline, ran, out


def test_preview_of_a_task_runs_no_downstream_task_and_keeps_last_run(etl):
    etl_pipeline, ran, out = etl
    assert etl_pipeline.last_run is None
    shown = preview(etl_pipeline.node("clean"), n=2)
    assert shown.rows["a"].to_list() == [1, 2] and shown.ran == ("extract", "clean")
    assert ran == ["extract", "clean"] and not out.exists()  # publish never ran
    assert etl_pipeline.last_run is None
    etl_pipeline.run()
    record = etl_pipeline.last_run
    ran.clear()
    preview(etl_pipeline.node("extract"))
    assert ran == ["extract"]
    assert etl_pipeline.last_run is record and record.status == "done"


def test_a_failing_preview_keeps_last_run_and_says_what_failed(etl, local_provider):
    etl_pipeline, ran, _ = etl
    etl_pipeline.run()
    record = etl_pipeline.last_run
    local_provider.bucket(bucket="raw", path="in.parquet").delete()
    with pytest.raises(PipelineError, match=r"preview of etl\.clean: task 'extract' failed") as info:
        preview(etl_pipeline.node("clean"))
    assert info.value.record.mode == "preview" and info.value.record.status == "failed"
    assert etl_pipeline.last_run is record
