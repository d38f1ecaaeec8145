"""Property tests: random DAGs run in-process agree with a plain sequential evaluator.

Hypothesis builds DAGs of up to a few hundred tasks with random fan-in and fan-out,
tasks that fail a few times and are retried (``retry_delay=0``), and tasks that fail for
good. ``pipeline.run(mode="local")`` must then give the values a sequential reference
evaluator gives, mark exactly the downstream closure of the failures as skipped, call
every task exactly once plus its retries, and emit one consistent event stream.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glacier import PipelineError, Provider, pipeline
from glacier.config import LocalConfig

MOD = 1_000_003


@dataclass(frozen=True)
class Spec:
    ups: tuple[int, ...]
    fails: int  # attempts that raise before one succeeds (a large number: fails for good)
    retries: int


@st.composite
def dags(draw: st.DrawFn, max_nodes: int = 250) -> list[Spec]:
    n = draw(st.integers(1, max_nodes), label="nodes")
    seed = draw(st.integers(0, 2**32), label="seed")
    fail_rate = draw(st.sampled_from([0.0, 0.0, 0.01, 0.05, 0.2]), label="fail_rate")
    flaky_rate = draw(st.sampled_from([0.0, 0.1, 0.3]), label="flaky_rate")
    max_in = draw(st.integers(0, 6), label="max_fan_in")
    hubs = draw(st.integers(1, 5), label="hubs")
    rng = random.Random(seed)
    specs = []
    for i in range(n):
        k = rng.randint(0, min(i, max_in))
        pool = range(min(i, hubs)) if rng.random() < 0.3 and i else range(i)  # hubs: wide fan-out
        ups = tuple(sorted(rng.sample(pool, min(k, len(pool)))))
        retries = rng.choice((0, 0, 1, 2))
        if rng.random() < fail_rate:
            fails = 99
        elif rng.random() < flaky_rate:
            fails = rng.randint(1, 3)
        else:
            fails = 0
        specs.append(Spec(ups, fails, retries))
    return specs


def reference(specs: list[Spec]) -> tuple[dict[int, str], dict[int, int], dict[int, int]]:
    """Sequential evaluation: statuses, values of finished nodes, expected calls."""
    status: dict[int, str] = {}
    values: dict[int, int] = {}
    calls: dict[int, int] = {}
    for i, spec in enumerate(specs):
        if any(status[u] != "done" for u in spec.ups):
            status[i], calls[i] = "skipped", 0
        elif spec.fails > spec.retries:
            status[i], calls[i] = "failed", spec.retries + 1
        else:
            status[i], calls[i] = "done", spec.fails + 1
            values[i] = (i * 7 + sum(values[u] for u in spec.ups)) % MOD
    return status, values, calls


def build(ex, specs: list[Spec]):
    calls: Counter[int] = Counter()
    produced: dict[int, int] = {}
    lock = threading.Lock()

    def make(i: int, spec: Spec):
        def fn(*inputs: int) -> int:
            with lock:
                calls[i] += 1
                attempt = calls[i]
            if attempt <= spec.fails:
                raise RuntimeError(f"n{i} fails on attempt {attempt}")
            value = (i * 7 + sum(inputs)) % MOD
            produced[i] = value
            return value

        return ex.task(name=f"n{i}", retries=spec.retries, retry_delay=0)(fn)

    tasks = [make(i, spec) for i, spec in enumerate(specs)]

    @pipeline(name="random_dag")
    def dag():
        outs: dict[int, object] = {}
        for i, spec in enumerate(specs):
            outs[i] = tasks[i](*[outs[u] for u in spec.ups])
        return {f"n{i}": outs[i] for i in range(len(specs))}

    return dag, calls, produced


@pytest.fixture(scope="module")
def executor(tmp_path_factory):
    return Provider(config=LocalConfig(base_path=str(tmp_path_factory.mktemp("dag")))).local()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(specs=dags(), workers=st.sampled_from([1, 2, 8]))
def test_random_dag_matches_reference(executor, specs, workers):
    status, values, expected_calls = reference(specs)
    dag, calls, produced = build(executor, specs)
    events = []
    failed = [i for i, s in status.items() if s == "failed"]
    if failed:
        with pytest.raises(PipelineError) as info:
            dag.run(mode="local", max_workers=workers, on_event=events.append)
        record = info.value.record
        assert record is dag.last_run and record.status == "failed"
        message = str(info.value)
        for i in failed:
            assert f"'n{i}'" in message
    else:
        result = dag.run(mode="local", max_workers=workers, on_event=events.append)
        assert result == {f"n{i}": v for i, v in values.items()}
        record = dag.last_run
        assert record.status == "done"

    # statuses: exactly the reference's, so skipped == downstream closure of failures
    assert {node: t.status for node, t in record.tasks.items()} == {f"n{i}": s for i, s in status.items()}
    # nothing runs twice unless retried, nothing skipped runs at all
    assert dict(calls) == {i: c for i, c in expected_calls.items() if c}
    for i, c in expected_calls.items():
        assert record.tasks[f"n{i}"].attempts == c
    assert produced == values
    for i, s in status.items():
        error = record.tasks[f"n{i}"].error
        assert (error is not None) == (s == "failed")

    # events: one start per run node, one retry per extra attempt, one outcome each
    kinds = Counter((e.kind, e.node) for e in events)
    for i, s in status.items():
        node = f"n{i}"
        assert kinds[("task_started", node)] == (1 if s != "skipped" else 0)
        assert kinds[("task_retried", node)] == max(0, expected_calls[i] - 1)
        assert kinds[("task_finished", node)] == (1 if s == "done" else 0)
        assert kinds[("task_failed", node)] == (1 if s == "failed" else 0)
        assert kinds[("task_skipped", node)] == (1 if s == "skipped" else 0)
    assert events[0].kind == "run_started" and events[-1].kind == ("run_failed" if failed else "run_finished")
    assert {e.run_id for e in events} == {record.run_id}
    # a task starts only after every upstream task finished
    position = {}
    for k, e in enumerate(events):
        position.setdefault((e.kind, e.node), k)
    for i, spec in enumerate(specs):
        start = position.get(("task_started", f"n{i}"))
        if start is not None:
            for u in spec.ups:
                assert position[("task_finished", f"n{u}")] < start


@st.composite
def lazy_dags(draw: st.DrawFn) -> tuple[list[Spec], int | None]:
    specs = [Spec(s.ups, 99 if s.fails == 99 else 0, 0) for s in draw(dags(max_nodes=60))]
    broken = draw(st.one_of(st.none(), st.integers(0, len(specs) - 1)), label="broken_plan")
    return specs, broken


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(case=lazy_dags())
def test_random_lazy_dag_matches_reference(executor, case, tmp_path_factory):
    """LazyFrame tasks: plans are collected at the end; a plan that fails when collected
    fails its own task (found among the upstream plans) and skips its downstream closure."""
    specs, broken = case
    missing = str(tmp_path_factory.getbasetemp() / "no-such-file.parquet")
    status, values, _ = reference(specs)
    calls: Counter[int] = Counter()

    def make(i: int, spec: Spec):
        def fn(*inputs: pl.LazyFrame) -> pl.LazyFrame:
            calls[i] += 1
            if spec.fails:
                raise RuntimeError(f"n{i} fails")
            if i == broken:
                return pl.scan_parquet(missing)  # fails only when collected
            own = pl.LazyFrame({"v": [i * 7]}, schema={"v": pl.Int64})
            return pl.concat([own, *inputs]).select(pl.col("v").sum() % MOD)

        return executor.task(name=f"n{i}")(fn)

    tasks = [make(i, s) for i, s in enumerate(specs)]

    @pipeline(name="lazy_dag")
    def dag():
        outs: dict[int, object] = {}
        for i, spec in enumerate(specs):
            outs[i] = tasks[i](*[outs[u] for u in spec.ups])
        return [outs[i] for i in range(len(specs))]

    expected_calls = {i: (0 if s == "skipped" else 1) for i, s in status.items()}
    plan_fails = broken is not None and status[broken] == "done"
    if plan_fails:
        status[broken] = "failed"
        down = {broken}
        for i, spec in enumerate(specs):
            if set(spec.ups) & down:
                down.add(i)
                if status[i] == "done":
                    status[i] = "skipped"
    if "failed" in status.values():
        with pytest.raises(PipelineError):
            dag.run(mode="local")
    else:
        frames = dag.run(mode="local")
        assert [f.collect().item() for f in frames] == [values[i] for i in range(len(specs))]
    record = dag.last_run
    assert {n: t.status for n, t in record.tasks.items()} == {f"n{i}": s for i, s in status.items()}
    assert dict(calls) == {i: c for i, c in expected_calls.items() if c}
    if plan_fails:
        assert "no-such-file" in (record.tasks[f"n{broken}"].error or "")
