"""DagWidget's synced payload (nodes, edges, layers, positions, executors, statuses)
and its message handlers (preview requests, run events), without a browser."""

from __future__ import annotations

import json
import threading
import time

import polars as pl
import pytest
from pydantic import SecretStr

from glacier import pipeline
from glacier.config import DatabricksConfig
from glacier.errors import PipelineError
from glacier.run.events import RunEvent
from glacier_jupyter.widgets import DagWidget, ResourceWidget, dag_payload
from glacier_jupyter.widgets.payload import apply_event


def _rows(widget: DagWidget) -> dict[str, list]:
    return {row[0]: row for row in widget.graph["nodes"]}


def test_payload_has_every_task_and_bucket_with_edges_and_layers(ns) -> None:
    w = DagWidget(ns["etl"])
    rows = _rows(w)
    assert set(rows) == {
        "extract",
        "clean",
        "enrich",
        "save",
        "bucket:data/raw.parquet",
        "bucket:data/clean.parquet",
    }
    assert [r[2] for r in w.graph["nodes"]].count("task") == 4
    ids = [r[0] for r in w.graph["nodes"]]
    edges = {(ids[a], ids[b]) for a, b in w.graph["edges"]}
    assert edges == {
        ("bucket:data/raw.parquet", "extract"),
        ("extract", "clean"),
        ("clean", "enrich"),
        ("enrich", "save"),
        ("save", "bucket:data/clean.parquet"),
    }
    # layers go left to right along every edge; x follows the layer
    for a, b in edges:
        assert rows[a][4] < rows[b][4]
        assert rows[a][5] < rows[b][5]
    assert w.graph["width"] > 0 and w.graph["height"] > 0
    json.dumps(w.graph)  # JSON-ready


def test_executors_legend_and_tooltips(ns) -> None:
    w = DagWidget(ns["etl"])
    exs = w.graph["executors"]
    assert [(e["name"], e["kind"]) for e in exs] == [("local", "local"), ("lambda", "serverless")]
    assert exs[1]["config"] == "LambdaConfig" and exs[1]["settings"]["memory"] == 1024
    assert exs[0]["color"] != exs[1]["color"]
    rows = _rows(w)
    assert rows["clean"][3] == 1 and rows["extract"][3] == 0 and rows["bucket:data/raw.parquet"][3] == -1
    assert w.graph["tips"][rows["clean"][7]] == "clean(df: pl.LazyFrame) -> pl.LazyFrame"
    assert w.graph["tips"][rows["bucket:data/raw.parquet"][7]].endswith("raw.parquet")


def test_secrets_never_reach_the_payload(local_provider) -> None:
    cluster = local_provider.cluster(
        config=DatabricksConfig(cluster_id="c-1", token=SecretStr("dapi-very-secret-token"))
    )

    @cluster.task()
    def make() -> pl.LazyFrame:
        return pl.LazyFrame({"a": [1]})

    @pipeline(name="p")
    def p():
        return make()

    text = json.dumps(DagWidget(p).graph) + json.dumps(ResourceWidget(local_provider).tree)
    assert "dapi-very-secret-token" not in text
    assert "**********" in text


def test_preview_message_runs_only_upstream_and_sets_preview(ns) -> None:
    w = DagWidget(ns["etl"])
    reply = w.handle_message({"type": "preview", "node": "clean", "n": 5})
    assert reply is w.preview
    assert reply["node"] == "clean"
    assert reply["ran"] == ["extract", "clean"]  # enrich and save did not run
    assert reply["columns"] == ["id", "value"] and reply["dtypes"] == ["Int64", "Int64"]
    assert len(reply["rows"]) == 5 and all(r[1] > 0 for r in reply["rows"])
    assert not ns["out"].exists()  # save never ran
    json.dumps(reply)


def test_preview_of_a_bucket_and_of_errors(ns) -> None:
    w = DagWidget(ns["etl"])
    reply = w.handle_message({"type": "preview", "node": "bucket:data/raw.parquet"})
    assert len(reply["rows"]) == 10 and reply["columns"] == ["id", "value"]
    missing = w.handle_message({"type": "preview", "node": "nope"})
    assert "nope" in missing["error"]
    absent = w.handle_message({"type": "preview", "node": "bucket:data/clean.parquet"})
    assert "error" in absent  # not written yet: an error in the panel, not an exception
    assert w.handle_message({"type": "other"}) is None
    assert w.handle_message({"type": "preview", "node": "clean", "n": "x"})["rows"]  # bad n: default


def test_run_events_update_statuses_live(ns) -> None:
    etl = ns["etl"]
    w = DagWidget(etl, interval=0.0)
    seen: list[dict] = []
    w.observe(lambda change: seen.append(dict(change["new"])), names="statuses")
    etl.run()
    assert w.run["state"] == "done" and w.run["end"] >= w.run["start"]
    assert {k: v["s"] for k, v in w.statuses.items()} == dict.fromkeys(
        ["extract", "clean", "enrich", "save"], "done"
    )
    assert w.statuses["clean"]["x"] == "lambda"
    assert all(v["t1"] >= v["t0"] for v in w.statuses.values())
    assert w.statuses["enrich"]["r"] == 42
    # intermediate states were pushed: all pending at the start, something running later
    assert any(all(v["s"] == "pending" for v in s.values()) for s in seen)
    assert any(any(v["s"] == "running" for v in s.values()) for s in seen)


def test_failed_and_skipped_statuses(local_provider) -> None:
    ex = local_provider.local()

    @ex.task()
    def one() -> int:
        return 1

    @ex.task()
    def boom(x: int) -> int:
        raise ValueError("bad value 42")

    @ex.task()
    def after(x: int) -> int:
        return x

    @pipeline(name="failing")
    def failing():
        return after(boom(one()))

    w = DagWidget(failing)
    with pytest.raises(PipelineError):
        failing.run()
    assert w.run["state"] == "failed" and "bad value 42" in w.run["error"]
    assert w.statuses["one"]["s"] == "done"
    assert w.statuses["boom"]["s"] == "failed" and "bad value 42" in w.statuses["boom"]["e"]
    assert w.statuses["after"]["s"] == "skipped"
    # a widget made after the run shows the last run's record
    assert {k: v["s"] for k, v in DagWidget(failing).statuses.items()} == {
        "one": "done",
        "boom": "failed",
        "after": "skipped",
    }


def test_throttled_updates_reach_the_final_state(local_provider) -> None:
    ex = local_provider.local()

    @ex.task()
    def step(x: int) -> int:
        return x + 1

    @pipeline(name="chain")
    def chain():
        value = 0
        for _ in range(200):
            value = step(value)
        return value

    w = DagWidget(chain, interval=10.0)  # pushes only at run start/end
    pushes: list[int] = []
    w.observe(lambda change: pushes.append(1), names="statuses")
    assert chain.run() == 200
    assert len(pushes) <= 3
    assert sum(v["s"] == "done" for v in w.statuses.values()) == 200


def test_timer_flushes_a_quiet_running_state(local_provider) -> None:
    ex = local_provider.local()
    started = threading.Event()
    release = threading.Event()

    @ex.task()
    def slow() -> int:
        started.set()
        release.wait(5)
        return 1

    @pipeline(name="slowp")
    def slowp():
        return slow()

    w = DagWidget(slowp, interval=0.05)
    runner = threading.Thread(target=slowp.run)
    runner.start()
    started.wait(5)
    deadline = time.monotonic() + 5
    while w.statuses.get("slow", {}).get("s") != "running" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert w.statuses["slow"]["s"] == "running"
    release.set()
    runner.join(5)
    assert w.statuses["slow"]["s"] == "done"


def test_close_unsubscribes(ns) -> None:
    etl = ns["etl"]
    w = DagWidget(etl)
    w.close()
    etl.run()
    assert w.run == {}


def test_apply_event_cached_and_retry() -> None:
    statuses: dict = {}
    apply_event(statuses, RunEvent("run_started", "r", "p", nodes=("a", "b")))
    assert statuses == {"a": {"s": "pending"}, "b": {"s": "pending"}}
    apply_event(statuses, RunEvent("task_cached", "r", "p", node="a", executor="local", time=10.0, rows=3))
    assert statuses["a"] == {"s": "cached", "x": "local", "t1": 10.0, "t0": 10.0, "r": 3}
    apply_event(statuses, RunEvent("task_retried", "r", "p", node="b", time=11.0))
    assert statuses["b"]["s"] == "running"


def test_thousand_node_payload_is_small(local_provider) -> None:
    ex = local_provider.local()

    @ex.task()
    def step(*xs: int) -> int:
        return sum(xs)

    @pipeline(name="big")
    def big():
        outs = [step()]
        for i in range(1, 1000):
            outs.append(step(outs[i - 1], outs[i // 2]))
        return outs[-1]

    payload = dag_payload(big.graph)
    assert len(payload["nodes"]) == 1000
    assert len(json.dumps(payload, separators=(",", ":"))) <= 200_000
