"""Bad input gets one readable error naming what was wrong and what would be right."""

from __future__ import annotations

import polars as pl
import pytest

from glacier import DefinitionError, PipelineError, pipeline


@pytest.fixture
def ex(local_provider):
    return local_provider.local()


def test_task_on_something_that_is_not_a_function(ex):
    class Thing:
        pass

    with pytest.raises(DefinitionError, match="decorates a function"):
        ex.task()(Thing)
    with pytest.raises(DefinitionError, match="decorates a function"):
        ex.task()(42)
    with pytest.raises(DefinitionError, match="keyword-only"):
        ex.task("clean")
    with pytest.raises(DefinitionError, match="retries"):
        ex.task(retries=-1)(lambda: None)


def test_task_given_an_argument_it_cannot_take(ex):
    @ex.task()
    def clean(df: pl.LazyFrame) -> pl.LazyFrame:
        return df

    @pipeline(name="p")
    def p():
        return clean(pl.LazyFrame(), extra=1)

    with pytest.raises(DefinitionError) as info:
        p.graph
    assert "extra" in str(info.value)
    assert "its signature is clean(df: pl.LazyFrame) -> pl.LazyFrame" in str(info.value)
    with pytest.raises(DefinitionError, match="missing a required argument"):
        clean()


def test_pipeline_that_returns_nothing(ex):
    @ex.task()
    def make() -> pl.DataFrame:
        return pl.DataFrame({"a": [1]})

    @pipeline(name="silent")
    def silent():
        make()

    with pytest.raises(DefinitionError, match="returns nothing.*return"):
        silent.run()


def test_pipeline_with_no_task(ex):
    @pipeline(name="empty")
    def empty():
        return 1

    with pytest.raises(DefinitionError, match="calls no task"):
        empty.graph


def test_missing_input_names_uri_and_task(local_provider, tmp_path):
    ex = local_provider.local()
    missing = local_provider.bucket(bucket="data", path="missing.parquet")

    @ex.task()
    def load(source) -> pl.LazyFrame:
        return source.scan()

    @pipeline(name="p")
    def p():
        return load(missing)

    with pytest.raises(PipelineError) as info:
        p.run()
    text = str(info.value)
    assert "load" in text and str(tmp_path / "data" / "data" / "missing.parquet") in text


def test_task_returning_a_non_frame_where_a_frame_is_expected(ex):
    @ex.task()
    def wrong() -> pl.LazyFrame:
        return [1, 2, 3]  # type: ignore[return-value]

    @ex.task()
    def number() -> int:
        return 3

    @ex.task()
    def needs_frame(df: pl.LazyFrame) -> pl.LazyFrame:
        return df

    @pipeline(name="p")
    def p():
        return wrong()

    with pytest.raises(PipelineError, match=r"annotated to return pl.LazyFrame but returned list"):
        p.run()

    @pipeline(name="q")
    def q():
        return needs_frame(number())

    with pytest.raises(PipelineError, match=r"parameter 'df' expects a pl.LazyFrame.*got int"):
        q.run()


def test_placeholders_misused_in_the_body(ex):
    @ex.task()
    def make() -> pl.LazyFrame:
        return pl.LazyFrame({"a": [1]})

    @pipeline(name="p")
    def p():
        out = make()
        return out.filter(pl.col("a") > 0)

    with pytest.raises(DefinitionError, match=r"\.filter.*inside the task"):
        p.graph

    @pipeline(name="q")
    def q():
        out = make()
        if out:
            return out
        return out

    with pytest.raises(DefinitionError, match="if"):
        q.graph


def test_unknown_mode_and_parameters(ex):
    @ex.task()
    def make() -> pl.LazyFrame:
        return pl.LazyFrame({"a": [1]})

    @pipeline(name="p")
    def p(day: str = "2024-01-01"):
        return make()

    with pytest.raises(DefinitionError, match="'local', 'distributed'"):
        p.run(mode="cloud")
    with pytest.raises(DefinitionError, match="day"):
        p.run(month="x")
    with pytest.raises(DefinitionError, match="keyword-only"):
        pipeline("etl")


def test_emulate_only_in_local_mode(ex):
    @ex.task()
    def make() -> pl.LazyFrame:
        return pl.LazyFrame({"a": [1]})

    @pipeline(name="p")
    def p():
        return make()

    with pytest.raises(DefinitionError, match="mode='local'"):
        p.run(mode="distributed", emulate=True)
