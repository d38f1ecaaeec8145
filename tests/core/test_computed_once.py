"""Each frame is computed once per run, and the run record tells what was computed.

A UDF call counter (a ``map_batches`` that counts its calls) shows how many times a plan
ran; the record's statuses, rows and notes are checked for fused, cached and failing runs.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from glacier import PipelineError, pipeline
from glacier.run import cache as cache_mod

DATA = pl.DataFrame({"id": [1, 2, 3, 4], "value": [1.5, None, 3.0, 4.0]})


class Counter:
    """A plan step that counts how often polars runs it."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, df: pl.DataFrame) -> pl.DataFrame:
        self.calls += 1
        return df.with_columns(prediction=pl.col("value") * 2)

    def apply(self, lf: pl.LazyFrame) -> pl.LazyFrame:
        return lf.map_batches(self, schema=lf.collect_schema() | {"prediction": pl.Float64})


@pytest.fixture
def lake(local_provider):
    raw = local_provider.bucket(bucket="lake", path="raw/data.parquet")
    raw.write(DATA)
    return local_provider, local_provider.local(), raw


def test_example_2_shape_computes_the_prediction_once(lake):
    provider, ex, raw = lake
    features = provider.bucket(bucket="lake", path="features/features.parquet")
    udf = Counter()

    @ex.task()
    def extract(source) -> pl.LazyFrame:
        return source.scan()

    @ex.task()
    def clean(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.filter(pl.col("value").is_not_null())

    @ex.task()
    def ml_predict(df: pl.LazyFrame) -> pl.LazyFrame:
        return udf.apply(df)

    @ex.task()
    def save(df: pl.LazyFrame) -> None:
        features.write(df)

    @pipeline(name="ml_inference")
    def ml():
        predictions = ml_predict(clean(extract(raw)))
        save(predictions)
        return predictions

    out = ml.run(progress=False).collect()
    assert udf.calls == 1
    assert out["prediction"].to_list() == [3.0, 6.0, 8.0]
    assert features.read().equals(out)
    rec = ml.last_run
    assert [rec[n].status for n in ("extract", "clean", "ml_predict", "save")] == ["done"] * 4
    assert rec["ml_predict"].rows == 3  # returned: collected
    assert rec["save"].rows == 3  # the rows its sink wrote


def test_a_diamond_computes_the_shared_plan_once(lake):
    provider, ex, raw = lake
    udf = Counter()

    @ex.task()
    def base(source) -> pl.LazyFrame:
        return udf.apply(source.scan())

    @ex.task()
    def low(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.filter(pl.col("id") <= 2)

    @ex.task()
    def high(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.filter(pl.col("id") > 2)

    @ex.task()
    def both(a: pl.LazyFrame, b: pl.LazyFrame) -> pl.LazyFrame:
        return pl.concat([a, b])

    @pipeline(name="diamond")
    def diamond():
        shared = base(raw)
        return both(low(shared), high(shared))

    assert diamond.run(progress=False).collect().height == 4
    assert udf.calls == 1
    assert {t.status for t in diamond.last_run.tasks.values()} == {"done"}


def test_a_frame_written_to_two_buckets_is_computed_once(lake):
    provider, ex, raw = lake
    one = provider.bucket(bucket="lake", path="out/one.parquet")
    two = provider.bucket(bucket="other", path="two.csv")
    udf = Counter()

    @ex.task()
    def score(source) -> pl.LazyFrame:
        return udf.apply(source.scan())

    @ex.task()
    def publish(df: pl.LazyFrame) -> None:
        one.write(df)
        two.write(df)

    @pipeline(name="fanout")
    def fanout():
        publish(score(raw))
        return 1

    assert fanout.run(progress=False) == 1
    assert udf.calls == 1
    assert one.read().height == 4 and two.read().height == 4
    assert fanout.last_run["publish"].status == "done"


def test_a_write_is_published_before_a_downstream_reader_starts(lake):
    provider, ex, raw = lake
    staged = provider.bucket(bucket="lake", path="staged/data.parquet")
    udf = Counter()

    @ex.task()
    def stage(source, target) -> int:
        target.write(udf.apply(source.scan()))
        return 1

    @ex.task()
    def report(source, after: int) -> pl.LazyFrame:
        return source.scan().select(pl.col("prediction").sum())

    @pipeline(name="staging")
    def staging():
        return report(staged, stage(raw, staged))

    assert staging.run(progress=False).collect().item() == 17.0
    assert udf.calls == 1
    rec = staging.last_run
    assert rec["stage"].status == "done" and rec["stage"].rows == 4


def test_a_returned_frame_a_reader_flushed_comes_back_computed(lake):
    """The frame is written, read back by the writing task (a flush) and returned: the run
    hands back its computed rows, so collecting the result runs no plan again."""
    provider, ex, raw = lake
    clean = provider.bucket(bucket="lake", path="clean/data.parquet")
    udf = Counter()

    @ex.task()
    def predict(source) -> pl.LazyFrame:
        return udf.apply(source.scan())

    @ex.task()
    def publish(df: pl.LazyFrame) -> int:
        clean.write(df)
        return clean.read().height

    @pipeline(name="publish_and_return")
    def publish_and_return():
        data = predict(raw)
        return {"rows": publish(data), "data": data}

    out = publish_and_return.run(progress=False)
    calls = udf.calls
    assert out["rows"] == 4
    assert out["data"].collect().equals(clean.read())
    assert udf.calls == calls  # collecting the returned frame computed nothing again
    assert publish_and_return.last_run["predict"].rows == 4


def test_a_task_reading_back_its_own_write_sees_it(etl):
    out = etl.pipeline.run(progress=False).collect()
    assert out.equals(etl.out.read())
    rec = etl.pipeline.last_run
    assert {t.status for t in rec.tasks.values()} == {"done"}


def test_a_failing_plan_publishes_nothing_and_keeps_the_old_object(lake):
    provider, ex, raw = lake
    target = provider.bucket(bucket="lake", path="out/result.parquet")
    target.write(pl.DataFrame({"old": [1]}))

    def boom(df: pl.DataFrame) -> pl.DataFrame:
        raise ValueError("model exploded")

    @ex.task()
    def predict(source) -> pl.LazyFrame:
        lf = source.scan()
        return lf.map_batches(boom, schema=lf.collect_schema())

    @ex.task()
    def save(df: pl.LazyFrame) -> None:
        target.write(df)

    @pipeline(name="broken")
    def broken():
        save(predict(raw))
        return 0

    with pytest.raises(PipelineError, match="model exploded"):
        broken.run(progress=False)
    assert target.read().equals(pl.DataFrame({"old": [1]}))
    assert sorted(p.name for p in Path(target.get_uri()).parent.iterdir()) == [
        "result.parquet"
    ]  # nothing staged left
    rec = broken.last_run
    assert rec["predict"].status == "failed"
    assert rec["save"].status == "skipped"


def test_statuses_and_rows_of_a_fused_run(lake):
    provider, ex, raw = lake

    @ex.task()
    def extract(source) -> pl.LazyFrame:
        return source.scan()

    @ex.task()
    def clean(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.filter(pl.col("value").is_not_null())

    @ex.task()
    def enrich(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.with_columns(double=pl.col("value") * 2)

    @ex.task()
    def total(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.group_by(pl.col("id") % 2).agg(pl.col("double").sum()).sort("id")

    seen: list[tuple[str, str]] = []

    @pipeline(name="fused")
    def fused():
        return total(enrich(clean(extract(raw))))

    fused.subscribe(lambda e: seen.append((e.kind, e.node or "")))
    assert fused.run(progress=False).collect().height == 2
    rec = fused.last_run
    assert {t.status for t in rec.tasks.values()} == {"done"}
    assert rec["total"].rows == 2  # collected
    assert rec["enrich"].rows == 3  # from the plan's node metrics
    assert rec["enrich"].compute is not None and rec["enrich"].compute > 0
    assert rec["extract"].rows is None and rec["extract"].note == "fused into clean"
    assert rec["clean"].rows == 3
    # planned first, done once computed: never done before the collection
    kinds = [k for k, n in seen if n == "enrich"]
    assert kinds == ["task_started", "task_planned", "task_finished"]
    text = rec.summary()
    assert "fused into clean" in text and "planned" not in text.split("\n", 2)[2]
    assert " 0.0 ms" not in text


def test_a_misspelt_column_while_another_branch_fails_shows_neither_computed(lake):
    provider, ex, raw = lake

    def boom(df: pl.DataFrame) -> pl.DataFrame:
        raise RuntimeError("branch b broke")

    @ex.task()
    def extract(source) -> pl.LazyFrame:
        return source.scan()

    @ex.task()
    def typo(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.select(pl.col("valeu"))

    @ex.task()
    def broken(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.map_batches(boom, schema=df.collect_schema())

    @pipeline(name="two_faults")
    def two_faults():
        data = extract(raw)
        return typo(data), broken(data)

    with pytest.raises(PipelineError) as info:
        two_faults.run(progress=False)
    rec = two_faults.last_run
    assert rec["typo"].status == "failed" and "valeu" in (rec["typo"].error or "")
    assert rec["broken"].status == "failed" and "branch b broke" in (rec["broken"].error or "")
    assert "finished: typo" not in str(info.value) and "finished: broken" not in str(info.value)
    assert rec["extract"].status == "done"  # computed on its own while looking for the culprits


def test_cached_tasks_show_their_rows(lake, tmp_path):
    provider, ex, raw = lake
    cache_mod.set_cache_dir(tmp_path / "cache")
    try:

        @ex.task(cache=True)
        def extract(source) -> pl.LazyFrame:
            return source.scan().filter(pl.col("value").is_not_null())

        @ex.task()
        def double(df: pl.LazyFrame) -> pl.LazyFrame:
            return df.with_columns(pl.col("value") * 2)

        @pipeline(name="cached")
        def cached():
            return double(extract(raw))

        cached.run(progress=False)
        cached.run(progress=False)
        rec = cached.last_run
        assert rec["extract"].status == "cached" and rec["extract"].rows == 3
        assert rec["double"].status == "done" and rec["double"].rows == 3
    finally:
        cache_mod.set_cache_dir(None)


def test_a_cached_first_run_computes_each_frame_once(lake, tmp_path):
    provider, ex, raw = lake
    udf = Counter()
    cache_mod.set_cache_dir(tmp_path / "cache")
    try:

        @ex.task(cache=True)
        def extract(source) -> pl.LazyFrame:
            return source.scan()

        @ex.task(cache=True)
        def score(df: pl.LazyFrame) -> pl.LazyFrame:
            return udf.apply(df)

        @ex.task(cache=True)
        def total(df: pl.LazyFrame) -> pl.LazyFrame:
            return df.select(pl.col("prediction").sum())

        @pipeline(name="cached_scores")
        def cached_scores():
            return total(score(extract(raw)))

        assert cached_scores.run(progress=False).collect().item() == 17.0
        assert udf.calls == 1  # the UDF's output is kept by the same collection, not computed again
        cache_mod.default_cache().wait()
        cache_mod.default_cache().forget_memory()  # as after a kernel restart
        assert cached_scores.run(progress=False).collect().item() == 17.0
        rec = cached_scores.last_run
        print(rec.summary(), list((tmp_path / "cache").glob("*/*/meta.json")))
        assert udf.calls == 1
        assert rec.cache_hits == ["extract", "score", "total"]
        assert [rec[n].rows for n in ("extract", "score", "total")] == [4, 4, 1]
    finally:
        cache_mod.set_cache_dir(None)
