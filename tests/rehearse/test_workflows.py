"""The Workflows interpreter: parallel branches with shared flags, retries, failures, and the
generated start-then-poll steps of a long Cloud Function."""

from __future__ import annotations

import threading

import pytest

from glacier.clouds.registry import cloud_named
from glacier.config import CloudFunctionConfig, GcpConfig
from glacier.terraform.plan import build_plan
from glacier.terraform.rehearse.wfexpr import WorkflowError, evaluate
from glacier.terraform.rehearse.workflows import Failed, WorkflowExecution


def _run(steps, call=lambda name, args, step: None):
    execution = WorkflowExecution({"main": {"steps": steps}}, call, "exec-1")
    return execution, execution.run()


def test_expressions():
    scope = {"vm": {"status": "RUNNING"}, "e": {"tags": ["TimeoutError"]}, "n": 3}
    fns = {"default": lambda a, b: b if a is None else a, "map.get": lambda m, k: m.get(k)}
    assert evaluate('vm.status != "TERMINATED" and n > 2', scope, fns) is True
    assert evaluate('not("TimeoutError" in e.tags)', scope, fns) is False
    assert evaluate('"a " + string_value', {"string_value": "b"}, fns) == "a b"
    assert evaluate('default(map.get(vm, "result"), "none")', scope, fns) == "none"
    with pytest.raises(WorkflowError, match="not found"):
        evaluate("vm.missing", scope, fns)


def test_branches_run_at_once_and_wait_for_shared_flags():
    barrier = threading.Barrier(2, timeout=10)
    order = []

    def call(name, args, step):
        order.append(step)
        if step in ("a", "b"):
            barrier.wait()  # both branches must be running together, or this times out

    steps = [
        {"init": {"assign": [{"done_a": False}, {"failed": ""}]}},
        {"p": {"parallel": {"shared": ["done_a", "failed"], "branches": [
            {"one": {"steps": [{"a": {"call": "x", "args": {}}}, {"a_done": {"assign": [{"done_a": True}]}}]}},
            {"two": {"steps": [
                {"b": {"call": "x", "args": {}}},
                {"c_ready": {"switch": [{"condition": "${not(done_a)}", "next": "c_idle"}], "next": "c"}},
                {"c_idle": {"call": "sys.sleep", "args": {"seconds": 5}, "next": "c_ready"}},
                {"c": {"call": "x", "args": {}}},
            ]}},
        ]}}},
    ]  # fmt: skip
    execution, _ = _run(steps, call)
    assert sorted(order[:2]) == ["a", "b"] and order[-1] == "c"


def test_retry_then_except_and_an_unhandled_raise_fails_at_its_step():
    tries = []

    def call(name, args, step):
        tries.append(step)
        raise WorkflowError({"tags": ["HttpError"], "code": 503, "message": "busy"})

    steps = [
        {"t": {
            "try": {"call": "http.post", "args": {}},
            "retry": {"predicate": "${http.default_retry_predicate}", "max_retries": 2,
                      "backoff": {"initial_delay": 2, "max_delay": 60, "multiplier": 2}},
            "except": {"as": "e", "steps": [{"why": {"raise": '${"gave up: " + e.message}'}}]},
        }},
    ]  # fmt: skip
    execution = WorkflowExecution({"main": {"steps": steps}}, call, "exec-1")
    with pytest.raises(Failed) as info:
        execution.run()
    assert tries == ["t", "t", "t"] and info.value.step == "why" and info.value.error == "gave up: busy"
    assert execution.waited == 2 + 4


def test_a_long_function_is_polled_after_the_call_times_out():
    from glacier import Provider, pipeline

    provider = Provider(config=GcpConfig(project_id="glacier-test"))
    slow = provider.serverless(config=CloudFunctionConfig(timeout=3600), name="slow")

    @slow.task()
    def work() -> int:
        return 1

    @pipeline(name="long_task")
    def long_task():
        return work()

    plan = build_plan(long_task)
    definition = cloud_named("gcp").load_renderer()(plan).definition(plan.flows[0])
    polls = iter([None, None, {"status": "failed", "message": "ValueError: late"}])
    seen = []

    def call(name, args, step):
        seen.append(name)
        if name == "http.post":
            assert args["timeout"] == 1800 and args["body"]["outcome"] is True
            raise WorkflowError.of("TimeoutError", "the call timed out")
        outcome = next(polls)
        if outcome is None:
            raise WorkflowError({"tags": ["HttpError"], "code": 404, "message": "not yet"})
        return outcome

    execution = WorkflowExecution(definition, call, "exec-1")
    with pytest.raises(Failed) as info:
        execution.run()
    assert info.value.error == "task work failed: ValueError: late"
    assert seen == ["http.post"] + ["googleapis.storage.v1.objects.get"] * 3
