"""Previews run only what they need: the node's upstream tasks, and only the rows shown."""

from __future__ import annotations

import polars as pl
import pytest

from glacier import PipelineError, pipeline
from glacier.errors import DefinitionError
from glacier.preview import Preview, preview


@pytest.fixture
def branched(local_provider, tmp_path, monkeypatch):
    """extract -> clean -> {explode (raises), total}; counts how often each task ran."""
    monkeypatch.setenv("GLACIER_CACHE_DIR", str(tmp_path / "cache"))
    provider = local_provider
    ex = provider.local()
    raw = provider.bucket(bucket="raw", path="events.parquet")
    raw.write(pl.DataFrame({"id": range(50_000), "amount": [i % 11 - 5 for i in range(50_000)]}))
    calls: dict[str, int] = {}

    def seen(name: str) -> None:
        calls[name] = calls.get(name, 0) + 1

    @ex.task(cache=True)
    def extract(source) -> pl.LazyFrame:
        seen("extract")
        return source.scan()

    @ex.task(cache=True)
    def clean(df: pl.LazyFrame) -> pl.LazyFrame:
        seen("clean")
        return df.filter(pl.col("amount") > 0)

    @ex.task()
    def explode(df: pl.LazyFrame) -> pl.LazyFrame:
        seen("explode")
        raise RuntimeError("downstream must not run for a preview")

    @ex.task()
    def total(df: pl.LazyFrame) -> int:
        seen("total")
        return df.select(pl.col("amount").sum()).collect().item()

    @pipeline(name="branched")
    def branched():
        cleaned = clean(extract(raw))
        return explode(cleaned), total(cleaned)

    return branched, calls, raw


def test_node_preview_runs_only_upstream(branched):
    pipe, calls, _ = branched
    shown = pipe.preview("clean", n=5)
    assert isinstance(shown, Preview)
    assert shown.rows.height == 5 and (shown.rows["amount"] > 0).all()
    assert shown.schema == {"id": pl.Int64, "amount": pl.Int64}
    assert calls == {"extract": 1, "clean": 1}
    assert shown.ran == ("extract", "clean") and shown.cached == ()


def test_preview_reuses_what_a_run_cached_and_stores_nothing(branched):
    pipe, calls, _ = branched
    pipe.preview("clean", n=3)
    again = pipe.node("clean").preview(n=3)
    assert again.ran == ("extract", "clean") and again.cached == ()  # a preview stores nothing
    with pytest.raises(PipelineError):  # explode fails; extract and clean are cached by the run
        pipe.run(progress=False)
    runs = dict(calls)
    after = pipe.preview("clean", n=3)
    assert after.cached == ("extract", "clean") and after.ran == ()
    assert calls == runs
    assert after.rows.equals(again.rows)


def test_slice_is_pushed_down_to_the_scan(branched):
    pipe, _, raw = branched
    shown = pipe.preview("extract", n=7)
    assert shown.rows.height == 7
    scan_and_slice = shown.plan.split("SCAN", 1)[1]
    assert "SLICE" in scan_and_slice and "len: 7" in scan_and_slice  # the scan itself reads 7 rows
    bucket = preview(raw, n=4)
    assert "SLICE" in bucket.plan.split("SCAN", 1)[1]


def test_non_frame_output(branched):
    pipe, calls, _ = branched
    shown = pipe.preview("total")
    assert shown.rows is None and isinstance(shown.value, int)
    assert "explode" not in calls


def test_failing_node(branched):
    pipe, _, _ = branched
    with pytest.raises(PipelineError, match="task 'explode' failed: RuntimeError"):
        pipe.preview("explode")


def test_bad_requests(branched):
    pipe, _, _ = branched
    with pytest.raises(KeyError, match="has no task 'nope'"):
        pipe.node("nope")
    with pytest.raises(DefinitionError, match="has no task 'nope'"):
        pipe.preview("nope")
    with pytest.raises(DefinitionError, match="returns 2 task outputs"):
        preview(pipe)
    with pytest.raises(DefinitionError, match="cannot preview a str"):
        preview("data.parquet")
    with pytest.raises(DefinitionError, match="n must be"):
        preview(pl.DataFrame({"a": [1]}), n=-1)


def test_frames():
    df = pl.DataFrame({"a": list(range(20))})
    assert preview(df, n=3).rows["a"].to_list() == [0, 1, 2]
    assert preview(df.lazy(), n=0).rows.height == 0
