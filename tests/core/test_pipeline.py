"""Tasks and pipelines: tracing, running, results, failures, retries, events."""

from __future__ import annotations

import threading

import polars as pl
import pytest

from glacier import DefinitionError, PipelineError, pipeline


@pytest.fixture
def env(local_provider):
    ex = local_provider.local()
    src = local_provider.bucket(bucket="data", path="input.parquet")
    src.write(pl.DataFrame({"id": [1, 2, 3, 4], "value": [5, -1, 3, 0]}))
    return local_provider, ex, src


def test_tracing_builds_the_graph_without_running(env):
    provider, ex, src = env
    calls = []

    @ex.task()
    def load(source) -> pl.LazyFrame:
        calls.append("load")
        return source.scan()

    @ex.task()
    def keep(df: pl.LazyFrame) -> pl.LazyFrame:
        calls.append("keep")
        return df.filter(pl.col("value") > 0)

    @pipeline(name="p")
    def p():
        return keep(load(src))

    graph = p.graph
    assert calls == []
    assert list(graph.nodes) == ["load", "keep"]
    assert graph.edges == [("load", "keep")]
    assert graph.buckets == [src]
    assert graph.nodes["load"].reads == (src,)


def test_run_returns_structure_with_values(env):
    provider, ex, src = env

    @ex.task()
    def load(source) -> pl.LazyFrame:
        return source.scan()

    @ex.task()
    def positive(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.filter(pl.col("value") > 0)

    @ex.task()
    def count(df: pl.LazyFrame) -> int:
        return df.select(pl.len()).collect().item()

    @pipeline(name="p")
    def p():
        data = load(src)
        pos = positive(data)
        return {"all": data, "n": count(data), "pair": (pos, [pos])}

    out = p.run()
    assert isinstance(out["all"], pl.LazyFrame)
    assert out["all"].collect().height == 4
    assert out["n"] == 4
    assert out["pair"][0].collect()["id"].to_list() == [1, 3]
    assert out["pair"][1][0].collect()["id"].to_list() == [1, 3]
    rec = p.last_run
    assert rec.status == "done"
    assert {t.status for t in rec.tasks.values()} == {"done"}
    assert rec["positive"].rows == 2
    assert rec["load"].rows == 4  # returned, so collected


def test_same_task_called_twice_and_positional_keyword_varargs(env):
    provider, ex, src = env

    @ex.task()
    def load(source) -> pl.LazyFrame:
        return source.scan()

    @ex.task()
    def add(df: pl.LazyFrame, *, amount: int = 1) -> pl.LazyFrame:
        return df.with_columns(pl.col("value") + amount)

    @ex.task()
    def union(*frames: pl.LazyFrame) -> pl.LazyFrame:
        return pl.concat(frames)

    @pipeline(name="p")
    def p(amount: int = 10):
        base = load(source=src)
        a = add(base, amount=amount)
        b = add(a, amount=amount)
        return union(a, b, base)

    assert list(p.graph.nodes) == ["load", "add", "add_2", "union"]
    assert p.graph.nodes["union"].upstream == ("add", "add_2", "load")
    out = p.run(amount=100).collect()
    assert sorted(out["value"].to_list()) == sorted([105, 99, 103, 100, 205, 199, 203, 200, 5, -1, 3, 0])
    assert p.last_run.params == {"amount": 100}


def test_outputs_shared_by_several_sinks_are_computed_once(env):
    provider, ex, src = env
    calls: list[int] = []

    def counted(df: pl.DataFrame) -> pl.DataFrame:
        calls.append(df.height)
        return df

    @ex.task()
    def load(source) -> pl.LazyFrame:
        lf = source.scan()
        return lf.map_batches(counted, schema=lf.collect_schema())

    @ex.task()
    def a(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.select(pl.col("value").sum())

    @ex.task()
    def b(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.select(pl.col("value").max())

    @pipeline(name="p")
    def p():
        data = load(src)
        return a(data), b(data)

    x, y = p.run()
    assert x.collect().item() == 7 and y.collect().item() == 5
    assert len(calls) == 1  # one collection for both sinks: the shared plan ran once


def test_task_called_outside_a_pipeline_runs_directly(env):
    provider, ex, src = env

    @ex.task()
    def load(source) -> pl.LazyFrame:
        return source.scan()

    assert load(src).collect().height == 4


def test_failure_keeps_finished_work_and_skips_downstream(env):
    provider, ex, src = env

    @ex.task()
    def load(source) -> pl.LazyFrame:
        return source.scan()

    @ex.task()
    def boom(df: pl.LazyFrame) -> pl.LazyFrame:
        raise ValueError("bad row 7")

    @ex.task()
    def after(df: pl.LazyFrame) -> pl.LazyFrame:
        return df

    @ex.task()
    def other(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.head(1)

    @pipeline(name="p")
    def p():
        data = load(src)
        return after(boom(data)), other(data)

    with pytest.raises(PipelineError) as info:
        p.run()
    rec = info.value.record
    assert rec is p.last_run
    assert rec["boom"].status == "failed" and "bad row 7" in rec["boom"].error
    assert rec["after"].status == "skipped"
    assert rec["other"].status == "done" and rec["other"].rows == 1
    assert rec["load"].status == "done"
    msg = str(info.value)
    assert "boom" in msg and "local" in msg and "bad row 7" in msg and "after" in msg
    assert isinstance(info.value.__cause__, ValueError)


def test_lazy_failure_is_attributed_to_the_task_whose_plan_fails(env):
    provider, ex, src = env

    @ex.task()
    def load(source) -> pl.LazyFrame:
        return source.scan()

    @ex.task()
    def cast(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.with_columns(pl.lit("x").cast(pl.Int64, strict=True).alias("bad"))

    @ex.task()
    def fine(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.select("id")

    @ex.task()
    def tail(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.select("bad")

    @pipeline(name="p")
    def p():
        data = load(src)
        return tail(cast(data)), fine(data)

    with pytest.raises(PipelineError) as info:
        p.run()
    rec = info.value.record
    assert rec["cast"].status == "failed"
    assert rec["tail"].status == "skipped"
    assert rec["fine"].status == "done" and rec["fine"].rows == 4


def test_retries_with_delay(env):
    provider, ex, src = env
    attempts = []

    @ex.task(retries=2, retry_delay=0.01)
    def flaky() -> pl.DataFrame:
        attempts.append(len(attempts) + 1)
        if len(attempts) % 3:
            raise ConnectionError("try again")
        return pl.DataFrame({"ok": [1]})

    events = []

    @pipeline(name="p")
    def p():
        return flaky()

    p.run(on_event=events.append)
    assert attempts == [1, 2, 3]
    assert [e.attempt for e in events if e.kind == "task_retried"] == [1, 2]
    # the waits between attempts: retry_delay, then times the default backoff of 2
    waits: list[float] = []
    assert flaky.call((), {}, pause=waits.append).equals(pl.DataFrame({"ok": [1]}))
    assert attempts == [1, 2, 3, 4, 5, 6] and waits == [0.01, 0.02]
    assert p.last_run["flaky"].attempts == 3

    @ex.task(retries=1, retry_delay=0)
    def always() -> pl.DataFrame:
        raise ConnectionError("down")

    @pipeline(name="q")
    def q():
        return always()

    with pytest.raises(PipelineError, match="down"):
        q.run()


def test_independent_branches_run_concurrently(env):
    provider, ex, src = env
    barrier = threading.Barrier(2, timeout=5)

    @ex.task()
    def left() -> pl.DataFrame:
        barrier.wait()  # both must be running at once, or this times out
        return pl.DataFrame({"x": [1]})

    @ex.task()
    def right() -> pl.DataFrame:
        barrier.wait()
        return pl.DataFrame({"x": [2]})

    @pipeline(name="p")
    def p():
        return left(), right()

    a, b = p.run()
    assert a["x"][0] == 1 and b["x"][0] == 2


def test_events_stream(env):
    provider, ex, src = env

    @ex.task()
    def load(source) -> pl.LazyFrame:
        return source.scan()

    @pipeline(name="p")
    def p():
        return load(src)

    seen = []
    unsubscribe = p.subscribe(seen.append)
    p.run()
    unsubscribe()
    kinds = [e.kind for e in seen]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert "task_started" in kinds and "task_finished" in kinds
    finished = [e for e in seen if e.kind == "task_finished" and e.rows is not None]
    assert finished[-1].rows == 4 and finished[-1].node == "load"
    p.run()
    assert len(seen) == len(kinds)  # unsubscribed


def test_pipeline_parameters_and_nested_pipelines(env):
    provider, ex, src = env

    @ex.task()
    def load(source) -> pl.LazyFrame:
        return source.scan()

    @ex.task()
    def above(df: pl.LazyFrame, threshold: int) -> pl.LazyFrame:
        return df.filter(pl.col("value") > threshold)

    @pipeline
    def inner(threshold: int):
        return above(load(src), threshold)

    @pipeline(name="outer")
    def outer(threshold: int = 0):
        return inner(threshold)

    assert outer.run(threshold=2).collect()["id"].to_list() == [1, 3]
    assert list(inner.graph.nodes) == ["load", "above"]  # no default: traced with a placeholder
    with pytest.raises(DefinitionError, match="threshold"):
        inner.run()


def test_frame_annotations_convert_inputs(env):
    provider, ex, src = env

    @ex.task()
    def eager(df: pl.DataFrame) -> pl.DataFrame:
        assert isinstance(df, pl.DataFrame)
        return df

    @ex.task()
    def lazy(df: pl.LazyFrame) -> pl.LazyFrame:
        assert isinstance(df, pl.LazyFrame)
        return df

    @pipeline(name="p")
    def p():
        return lazy(eager(src))  # a bucket given to a frame parameter is scanned

    assert p.run().collect().height == 4


def test_progress_bar_can_be_on(env, capsys):
    provider, ex, src = env

    @ex.task()
    def load(source) -> pl.LazyFrame:
        return source.scan()

    @pipeline(name="progress_demo")
    def p():
        return load(src)

    p.run(progress=True)
    assert "progress_demo" in capsys.readouterr().err
    p.run(progress=False)
    assert capsys.readouterr().err == ""


def test_indexing_a_task_output(env):
    provider, ex, src = env

    @ex.task()
    def split(source) -> tuple:
        df = source.read()
        return df.filter(pl.col("value") > 0), df.filter(pl.col("value") <= 0)

    @ex.task()
    def count(df: pl.DataFrame) -> int:
        return df.height

    @pipeline(name="p")
    def p():
        parts = split(src)
        return count(parts[0]), count(parts[1])

    assert p.run() == (2, 2)
    assert p.graph.edges == [("split", "count"), ("split", "count_2")]
