"""The Step Functions interpreter: states, paths, retries and catches behave as documented."""

from __future__ import annotations

import threading

import pytest

from glacier.terraform.rehearse.asl import Execution, ExecutionFailed, TaskFailure, intrinsic, json_path


def test_paths_and_intrinsics():
    data = {"a": {"b": [1, {"c": "x"}]}}
    ctx = {"Execution": {"Name": "run-1"}}
    assert json_path("$.a.b[1].c", data) == "x"
    assert json_path("$$.Execution.Name", data, ctx) == "run-1"
    assert intrinsic("States.Format('cp {} {}', $.a.b[1].c, $$.Execution.Name)", data, ctx) == "cp x run-1"
    assert intrinsic("States.Array('a', States.Format('{}-b', $.a.b[0]))", data, ctx) == ["a", "1-b"]
    with pytest.raises(TaskFailure, match="matches nothing"):
        json_path("$.missing", data)


def _machine(states, start):
    return {"StartAt": start, "States": states}


def test_parallel_branches_run_at_once_and_result_path_null_keeps_input():
    barrier = threading.Barrier(2, timeout=10)
    calls = []

    def invoke(resource, params, state):
        calls.append(state)
        barrier.wait()  # both branches must be running together, or this times out
        return {"done": state}

    branch = lambda name: _machine({name: {"Type": "Task", "Resource": "r", "End": True}}, name)  # noqa: E731
    definition = _machine(
        {"p": {"Type": "Parallel", "Branches": [branch("x"), branch("y")], "ResultPath": None, "End": True}},
        "p",
    )
    out = Execution(definition, invoke).run({"keep": 1})
    assert out == {"keep": 1}
    assert sorted(calls) == ["x", "y"]


def test_retry_then_catch_then_choice_and_fail():
    attempts = []

    def invoke(resource, params, state):
        attempts.append(state)
        raise TaskFailure("ValueError", "boom")

    definition = _machine(
        {
            "t": {
                "Type": "Task",
                "Resource": "r",
                "Retry": [{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 2, "IntervalSeconds": 3}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "c"}],
                "End": True,
            },
            "c": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.err.Error", "StringEquals": "ValueError", "Next": "f"}],
                "Default": "ok",
            },
            "ok": {"Type": "Succeed"},
            "f": {"Type": "Fail", "Error": "TaskFailed", "Cause": "task t failed"},
        },
        "t",
    )
    execution = Execution(definition, invoke)
    with pytest.raises(ExecutionFailed) as info:
        execution.run({})
    assert attempts == ["t", "t", "t"]  # one try and two retries
    assert info.value.state == "f" and info.value.error == "TaskFailed"
    assert execution.waited == 3 + 6  # backoff 2.0 by default; waits are counted, not slept


def test_poll_loop_with_wait_and_map():
    polls = iter(["InProgress", "InProgress", "Success"])

    def invoke(resource, params, state):
        if state == "poll":
            return {"Status": next(polls)}
        return params["n"] * 10

    definition = _machine(
        {
            "poll": {"Type": "Task", "Resource": "r", "ResultSelector": {"s.$": "$.Status"}, "ResultPath": "$.st", "Next": "check"},
            "check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.st.s", "StringEquals": "Success", "Next": "map"}],
                "Default": "wait",
            },
            "wait": {"Type": "Wait", "Seconds": 30, "Next": "poll"},
            "map": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": _machine({"m": {"Type": "Task", "Resource": "r", "Parameters": {"n.$": "$"}, "End": True}}, "m"),
                "ResultPath": "$.out",
                "End": True,
            },
        },
        "poll",
    )  # fmt: skip
    execution = Execution(definition, invoke)
    out = execution.run({"items": [1, 2, 3]})
    assert out["out"] == [10, 20, 30]
    assert execution.waited == 60
