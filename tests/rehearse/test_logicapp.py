"""The Logic Apps interpreter: runAfter parallelism, skips after a failure, bounded loops,
conditions and Terminate, expressions."""

from __future__ import annotations

import threading

import pytest

from glacier.terraform.rehearse.logicapp import LogicAppRun, Terminated, iso_seconds
from glacier.terraform.rehearse.wdl import condition, template


def _fns(outputs):
    return {"body": lambda n: outputs[n]["body"], "equals": lambda a, b: a == b, "not": lambda a: not a,
            "concat": lambda *a: "".join(map(str, a)), "workflow": lambda: {"run": {"name": "r1"}}}  # fmt: skip


def test_expressions_and_conditions():
    fns = _fns({"poll": {"body": {"status": "running"}}})
    assert template("@not(equals(body('poll')?['status'], 'running'))", fns) is False
    assert template("runs/@{workflow().run.name}/x.json", fns) == "runs/r1/x.json"
    assert template("@body('poll')?['missing']?['deeper']", fns) is None
    assert condition({"not": {"equals": ["@body('poll')?['status']", "succeeded"]}}, fns) is True
    assert iso_seconds("PT1H30M") == 5400 and iso_seconds("PT21660S") == 21660


def test_independent_actions_run_at_once_and_a_failure_skips_what_follows():
    barrier = threading.Barrier(2, timeout=10)

    def call(name, inputs):
        if name in ("a", "b"):
            barrier.wait()  # both start together, or this times out
        return {"statusCode": 500 if name == "b" else 200, "body": {"message": "boom"}}

    http = {"type": "Http", "inputs": {"method": "GET", "uri": "x", "retryPolicy": {"type": "none"}}}
    actions = {
        "a": {**http, "runAfter": {}},
        "b": {**http, "runAfter": {}},
        "c": {**http, "runAfter": {"a": ["Succeeded"], "b": ["Succeeded"]}},
    }
    run = LogicAppRun(actions, call, "r1")
    with pytest.raises(Terminated) as info:
        run.run()
    assert run.statuses == {"a": "Succeeded", "b": "Failed", "c": "Skipped"}
    assert info.value.action == "b" and "HTTP 500" in info.value.error


def test_until_is_bounded_and_terminate_ends_the_run():
    def call(name, inputs):
        return {"statusCode": 200, "body": {"status": "running"}}

    loop = {
        "type": "Until",
        "expression": "@not(equals(body('poll')?['status'], 'running'))",
        "limit": {"count": 3, "timeout": "PT1H"},
        "actions": {
            "wait": {"type": "Wait", "inputs": {"interval": {"count": 30, "unit": "Second"}}, "runAfter": {}},
            "poll": {
                "type": "Http",
                "inputs": {"method": "GET", "uri": "x"},
                "runAfter": {"wait": ["Succeeded"]},
            },
        },
        "runAfter": {},
    }
    run = LogicAppRun({"loop": loop}, call, "r1")
    with pytest.raises(Terminated, match="limit"):
        run.run()
    assert run.waited == 90  # three turns, waits counted

    stop = {"type": "If", "expression": {"equals": [1, 1]}, "runAfter": {}, "actions": {
        "end": {"type": "Terminate", "inputs": {"runStatus": "Failed", "runError": {"message": "@concat('task ', 'x')"}},
                "runAfter": {}}}}  # fmt: skip
    after = {"type": "Http", "inputs": {"method": "GET", "uri": "x"}, "runAfter": {"stop": ["Succeeded"]}}
    run = LogicAppRun({"stop": stop, "after": after}, call, "r1")
    with pytest.raises(Terminated) as info:
        run.run()
    assert info.value.error == "task x" and run.statuses["after"] == "Skipped"
