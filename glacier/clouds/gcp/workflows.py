"""The GCP orchestrator: one Google Cloud Workflows definition per pipeline.

Tasks follow the exact DAG: the steps are cut into chains (``glacier/terraform/schedule.py``),
one ``parallel`` branch each; a task waits by a shared flag for the inputs other branches
produce, so it starts when its own inputs are ready. A failed task sets ``failed`` and every
waiting branch stops; the run fails.

How each kind of task is run and checked:

- function: ``http.post`` with the function's timeout (at most Workflows' 1,800 s); a longer
  function is asked to record its outcome, and when the call times out the workflow polls
  ``STAGING/RUN/TASK.outcome.json`` until the function's own timeout (start-then-poll).
- VM: the task goes into the metadata, the VM starts, the workflow polls until it is
  ``TERMINATED`` (bounded by ``var.vm_task_timeout_seconds``) and then reads the outcome the
  start-up script recorded: a failed task, or none recorded, fails the run.
- Dataproc: a job through the connector, which waits for it and fails with it.
- Databricks: ``run-now``, then ``runs/get`` until a terminal state (``TERMINATED``,
  ``SKIPPED``, ``INTERNAL_ERROR``), bounded; anything but ``SUCCESS`` fails the run.
"""

from __future__ import annotations

from typing import Any

from glacier.config.execution import CloudFunctionConfig, ComputeEngineConfig, DataprocConfig
from glacier.config.storage import GCSConfig
from glacier.errors import ConfigError
from glacier.terraform.base import Renderer, ref
from glacier.terraform.hcl import Raw, template
from glacier.terraform.plan import Flow, Step
from glacier.terraform.schedule import chains, vm_order, waits

__all__ = ["Workflows", "HTTP_LIMIT", "MAX_BRANCHES", "VM_METADATA", "deployed_env"]

#: Workflows' longest HTTP call (seconds).
HTTP_LIMIT = 1800
#: Workflows: branches of one ``parallel`` step.
MAX_BRANCHES = 10
#: Seconds between two polls, and between two looks at a shared flag.
POLL, FLAG_POLL = 30, 5
ARTIFACTS = "google_storage_bucket.glacier_artifacts.name"
VM_METADATA = {"block-project-ssh-keys": "true", "enable-oslogin": "true", "serial-port-enable": "false"}


def deployed_env() -> dict[str, Any]:
    """What every deployed GCP task is told: its cloud (``GLACIER_CLOUD``: a module written for
    another cloud builds a GCP provider) and its project."""
    return {"GLACIER_CLOUD": "gcp", "GOOGLE_CLOUD_PROJECT": ref("var.project_id")}


def _outcome_get(node: str, result: str) -> dict[str, Any]:
    """Read ``STAGING/RUN/NODE.outcome.json`` (JSON, parsed by the connector)."""
    return {
        "call": "googleapis.storage.v1.objects.get",
        "args": {
            "bucket": ref(ARTIFACTS),
            "object": f'${{text.url_encode("runs/" + run + "/{node}.outcome.json")}}',
            "alt": "media",
        },
        "result": result,
    }


class Workflows(Renderer[GCSConfig, CloudFunctionConfig, ComputeEngineConfig, DataprocConfig]):
    """The orchestrator half of the GCP renderer."""

    def staging(self) -> Raw:
        return template(f"gs://${{{ARTIFACTS}}}/runs")

    def body(self, flow: Flow, step: Step) -> dict[str, Any]:
        return {"pipeline": flow.pipeline, "task": step.node, "run": "${run}", "staging": "${staging}"}

    # -- one task --------------------------------------------------------------------
    def task_steps(self, flow: Flow, step: Step) -> list[dict[str, Any]]:
        ex = self.plan.executor(step.executor)
        if ex.kind in ("local", "serverless"):
            return self.function_steps(flow, step, ex.config)
        if isinstance(ex.config, DataprocConfig):
            return self.dataproc_steps(flow, step)
        if isinstance(ex.config, ComputeEngineConfig):
            return self.vm_steps(flow, step)
        return self.databricks_steps(flow, step)

    def retried(
        self, step: Step, name: str, call: dict[str, Any], *, idempotent: bool = True
    ) -> dict[str, Any]:
        """``call`` as a step, retried as the task asks: on connection errors, timeouts and
        429/5xx answers; only on 429/503 when a retry must not start the task twice."""
        if not step.retries:
            return {name: call}
        predicate = "http.default_retry_predicate" + ("" if idempotent else "_non_idempotent")
        return {
            name: {
                "try": call,
                "retry": {"predicate": f"${{{predicate}}}", "max_retries": step.retries,
                          "backoff": {"initial_delay": 2, "max_delay": 60, "multiplier": 2}},
            }
        }  # fmt: skip

    def function_steps(self, flow: Flow, step: Step, cfg: Any) -> list[dict[str, Any]]:
        ex = self.plan.executor(step.executor)
        n = step.ident
        body = self.body(flow, step)
        long = cfg.timeout > HTTP_LIMIT
        if long:
            body["outcome"] = True
        call = {
            "call": "http.post",
            "args": {
                "url": template(f"${{google_cloudfunctions2_function.{ex.ident}.url}}"),
                "auth": {"type": "OIDC"},
                "body": body,
                "timeout": min(cfg.timeout + 30, HTTP_LIMIT),
            },
            "result": f"{n}_result",
        }
        if not long:
            return [self.retried(step, n, call)]
        # start-then-poll: past Workflows' longest call, read the outcome the function records
        poll = [
            {f"{n}_timed_out": {"switch": [{"condition": '${not("TimeoutError" in e.tags)}', "raise": "${e}"}]}},
            {f"{n}_wait": {"call": "sys.sleep", "args": {"seconds": POLL}}},
            {f"{n}_poll": {
                "try": _outcome_get(step.node, f"{n}_outcome"),
                "except": {"as": "missing", "steps": [
                    {f"{n}_absent": {"switch": [{"condition": "${missing.code != 404}", "raise": "${missing}"}]}},
                    {f"{n}_none": {"assign": [{f"{n}_outcome": None}]}},
                ]},
            }},
            {f"{n}_check": {"switch": [
                {"condition": f"${{{n}_outcome == null and sys.now() > {n}_until}}",
                 "raise": f"task {step.node} timed out after {cfg.timeout} s"},
                {"condition": f"${{{n}_outcome == null}}", "next": f"{n}_wait"},
                {"condition": f'${{{n}_outcome.status != "succeeded"}}',
                 "raise": f'${{"task {step.node} failed: " + {n}_outcome.message}}'},
            ]}},
        ]  # fmt: skip
        started = {f"{n}_deadline": {"assign": [{f"{n}_until": f"${{sys.now() + {cfg.timeout + 60}}}"}]}}
        guarded = self.retried(step, f"{n}_call", call, idempotent=False)
        return [started, {n: {"try": {"steps": [guarded]}, "except": {"as": "e", "steps": poll}}}]

    def vm_steps(self, flow: Flow, step: Step) -> list[dict[str, Any]]:
        ex = self.plan.executor(step.executor)
        n, inst = step.ident, f"google_compute_instance.{ex.ident}"
        where = {
            "project": ref("var.project_id"),
            "zone": ref(f"{inst}.zone"),
            "instance": ref(f"{inst}.name"),
        }
        task = f'${{"{flow.pipeline} {step.node} " + run + " " + staging}}'
        items = [
            *({"key": k, "value": v} for k, v in self.vm_metadata(ex.ident).items()),
            {"key": "startup-script", "value": Raw(f'file("${{path.module}}/{self.vm_script}")')},
            {"key": "glacier-task", "value": task},
        ]
        connector = {"timeout": 300}
        return [
            {f"{n}_get": {"call": "googleapis.compute.v1.instances.get", "args": {**where, "connector_params": connector}, "result": "vm"}},
            {f"{n}_assign": {"call": "googleapis.compute.v1.instances.setMetadata",
                             "args": {**where, "body": {"fingerprint": "${vm.metadata.fingerprint}", "items": items},
                                      "connector_params": connector}}},
            {f"{n}_start": {"call": "googleapis.compute.v1.instances.start", "args": {**where, "connector_params": connector}}},
            {f"{n}_deadline": {"assign": [{f"{n}_until": template("$${sys.now() + ${var.vm_task_timeout_seconds}}")}]}},
            {f"{n}_wait": {"call": "sys.sleep", "args": {"seconds": POLL}}},
            {f"{n}_poll": {"call": "googleapis.compute.v1.instances.get", "args": {**where, "connector_params": connector}, "result": "vm"}},
            {f"{n}_check": {"switch": [
                {"condition": f'${{vm.status != "TERMINATED" and sys.now() > {n}_until}}',
                 "raise": f"task {step.node} timed out on its VM"},
                {"condition": '${vm.status != "TERMINATED"}', "next": f"{n}_wait"},
            ]}},
            {f"{n}_read": _outcome_get(step.node, f"{n}_outcome")},
            {f"{n}_verdict": {"switch": [
                {"condition": f'${{{n}_outcome.status != "succeeded"}}',
                 "raise": f'${{"task {step.node} failed on its VM: " + {n}_outcome.message}}'},
            ]}},
        ]  # fmt: skip

    def dataproc_steps(self, flow: Flow, step: Step) -> list[dict[str, Any]]:
        ex = self.plan.executor(step.executor)
        job = {
            "placement": {"clusterName": ref(f"google_dataproc_cluster.{ex.ident}.name")},
            "pysparkJob": {
                "mainPythonFileUri": template(f"gs://${{{ARTIFACTS}}}/code/glacier_handler.py"),
                "pythonFileUris": [template(f"gs://${{{ARTIFACTS}}}/${{google_storage_bucket_object.code.name}}")],
                "args": [flow.pipeline, step.node, "${run}", "${staging}", "GLACIER_CLOUD=gcp",
                         template("GOOGLE_CLOUD_PROJECT=${var.project_id}")],
            },
        }  # fmt: skip
        call = {
            "call": "googleapis.dataproc.v1.projects.regions.jobs.submitAsOperation",
            "args": {
                "projectId": ref("var.project_id"),
                "region": ref("var.region"),
                "body": {"job": job},
                "connector_params": {"timeout": ref("var.vm_task_timeout_seconds")},
            },
            "result": f"{step.ident}_job",
        }
        return [self.retried(step, step.ident, call)]

    def databricks_steps(self, flow: Flow, step: Step) -> list[dict[str, Any]]:
        ex = self.plan.executor(step.executor)
        n = step.ident
        auth = {"Authorization": '${"Bearer " + token}'}
        api = "${var.databricks_host}/api/2.1/jobs"
        state = f"{n}_polled.body.state"
        ended = " or ".join(
            f'{state}.life_cycle_state == "{s}"' for s in ("TERMINATED", "SKIPPED", "INTERNAL_ERROR")
        )
        return [
            {f"{n}_token": {"call": "googleapis.secretmanager.v1.projects.secrets.versions.accessString",
                            "args": {"secret_id": ref("google_secret_manager_secret.databricks_token.secret_id")},
                            "result": "token"}},
            {f"{n}_submit": {"call": "http.post", "args": {
                "url": template(f"{api}/run-now"), "headers": auth,
                "body": {"job_id": ref(f"tonumber(databricks_job.{ex.ident}.id)"), "job_parameters": self.body(flow, step)},
            }, "result": f"{n}_submitted"}},
            {f"{n}_deadline": {"assign": [{f"{n}_until": template("$${sys.now() + ${var.vm_task_timeout_seconds}}")}]}},
            {f"{n}_wait": {"call": "sys.sleep", "args": {"seconds": POLL}}},
            {f"{n}_poll": {"call": "http.get", "args": {
                "url": template(f"{api}/runs/get"), "headers": auth,
                "query": {"run_id": f"${{{n}_submitted.body.run_id}}"}}, "result": f"{n}_polled"}},
            {f"{n}_check": {"switch": [
                {"condition": f"${{not({ended}) and sys.now() > {n}_until}}", "raise": f"task {step.node} timed out on Databricks"},
                {"condition": f"${{not({ended})}}", "next": f"{n}_wait"},
                {"condition": f'${{{state}.life_cycle_state != "TERMINATED"}}',
                 "raise": f'${{"task {step.node} ended on Databricks as " + {state}.life_cycle_state}}'},
                {"condition": f'${{default(map.get({state}, "result_state"), "") != "SUCCESS"}}',
                 "raise": f'${{"task {step.node} failed on Databricks: " + default(map.get({state}, "state_message"), "")}}'},
            ]}},
        ]  # fmt: skip

    # -- the whole flow --------------------------------------------------------------
    def vm_metadata(self, ident: str) -> dict[str, Any]:
        raise NotImplementedError

    vm_script: str = ""

    def definition(self, flow: Flow) -> dict[str, Any]:
        is_vm = {e.ident: isinstance(e.config, ComputeEngineConfig) for e in self.plan.executors}
        found = chains(flow)
        wait_for = waits(flow, found, vm_order(flow, is_vm))
        flags = sorted({u for ups in wait_for.values() for u in ups})
        init: list[dict[str, Any]] = [
            {"run": '${sys.get_env("GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID")}'},
            {"staging": self.staging()},
            {"failed": ""},
            *({f"done_{f}": False} for f in flags),
        ]
        steps: list[dict[str, Any]] = [{"init": {"assign": init}}]
        if len(found) == 1:
            steps += [s for step in found[0].steps for s in self.task_steps(flow, step)]
            return {"main": {"steps": steps}}
        if len(found) > MAX_BRANCHES:
            raise ConfigError(
                f"pipeline {flow.pipeline!r} has {len(found)} independent chains of tasks, and a Workflows "
                f"parallel step runs at most {MAX_BRANCHES} branches: split the pipeline, or join branches"
            )
        branches = []
        for i, chain in enumerate(found, 1):
            body: list[dict[str, Any]] = []
            for step in chain.steps:
                n = step.ident
                task = self.task_steps(flow, step)
                body.append({f"{n}_begin": {"assign": [{"current": step.node}]}})
                if n in wait_for:
                    ready = " and ".join(f"done_{u}" for u in wait_for[n])
                    body += [
                        {f"{n}_ready": {"switch": [
                            {"condition": '${failed != ""}',
                             "raise": f'${{"task {step.node} not started: task " + failed + " failed"}}'},
                            {"condition": f"${{not({ready})}}", "next": f"{n}_idle"},
                        ], "next": next(iter(task[0]))}},
                        {f"{n}_idle": {"call": "sys.sleep", "args": {"seconds": FLAG_POLL}, "next": f"{n}_ready"}},
                    ]  # fmt: skip
                body += task
                if n in flags:
                    body.append({f"{n}_done": {"assign": [{f"done_{n}": True}]}})
            branches.append({
                f"chain_{i}": {"steps": [
                    {f"chain_{i}_init": {"assign": [{"current": ""}]}},
                    {f"chain_{i}_run": {"try": {"steps": body}, "except": {"as": "e", "steps": [
                        {f"chain_{i}_failed": {"assign": [{"failed": "${current}"}]}},
                        {f"chain_{i}_raise": {"raise": "${e}"}},
                    ]}}},
                ]}
            })  # fmt: skip
        shared = ["failed", *(f"done_{f}" for f in flags)]
        steps.append({"tasks": {"parallel": {"shared": shared, "branches": branches}}})
        return {"main": {"steps": steps}}
