"""The Azure orchestrator: one Logic App workflow per pipeline, one action per task.

Why a Logic App: its workflow is declarative infrastructure (each action names the actions
it runs after), so the pipeline's DAG maps onto it one to one, with full parallelism, and
needs no orchestration code deployed. Durable Functions would put the DAG in Python code.

Each task's action is a scope that starts the task and polls its outcome (start-then-poll: a
Logic App's outbound call lasts at most 120 s, an Azure Functions HTTP call 230 s):

- function: ``POST /api/start`` (the task runs in the background of the function app);
- VM: Run Command with ``scripts/azure_vm_task.sh`` (the task runs detached on the VM);
- then an ``Until`` reads ``runs/RUN/TASK.outcome.json`` every 30 s, bounded by the task's
  timeout, and a task that did not succeed terminates the run as failed;
- Databricks: ``run-now``, then ``runs/get`` until a terminal state (``TERMINATED``,
  ``SKIPPED``, ``INTERNAL_ERROR``), bounded; anything but ``SUCCESS`` fails the run.

A task runs after its own inputs (``runAfter``); a VM's tasks also run one after another.
"""

from __future__ import annotations

from typing import Any

from glacier.clouds.azure.scripts import VM_TASK_FILE, VM_VALUES
from glacier.config.execution import AzureFunctionConfig, AzureVMConfig, DatabricksConfig
from glacier.config.storage import AzureBlobConfig
from glacier.terraform.base import Renderer, ref
from glacier.terraform.hcl import Attr, Block, Call, Raw, template
from glacier.terraform.plan import Flow, Step
from glacier.terraform.schedule import vm_order

__all__ = ["LogicApps", "STAGING", "deployed_env"]

#: Where tasks pass frames: the artifacts container, with its storage account.
STAGING = "abfss://glacier-artifacts@${var.storage_account_name}.dfs.core.windows.net/runs"
#: Seconds between two polls of a task's outcome.
POLL = 30


def deployed_env() -> dict[str, Any]:
    """What every deployed Azure task is told: its cloud (``GLACIER_CLOUD``: a module written
    for another cloud builds an Azure provider) and its storage account."""
    return {
        "AZURE_STORAGE_ACCOUNT": ref("var.storage_account_name"),
        "AZURE_STORAGE_ACCOUNT_NAME": ref("var.storage_account_name"),
        "GLACIER_CLOUD": "azure",
    }


def _iso(seconds: int) -> str:
    return f"PT{seconds}S"


#: The application id of Azure Databricks (the audience of its tokens).
DATABRICKS_APP = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d"


def _outcome_condition() -> str:
    """ABAC condition: blob reads only below ``runs/`` (the outcome records)."""
    blob = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"
    return f"((!(ActionMatches{{'{blob}/read'}})) OR (@Resource[{blob}:path] StringStartsWith 'runs/'))"


class LogicApps(Renderer[AzureBlobConfig, AzureFunctionConfig, AzureVMConfig, DatabricksConfig]):
    """The orchestrator half of the Azure renderer.

    Spark runs on Databricks on Azure: its cluster config is ``DatabricksConfig``, which the
    base class renders before asking for a native cluster.
    """

    def _rg(self) -> list[Attr]:
        return [
            Attr("location", ref("azurerm_resource_group.glacier.location")),
            Attr("resource_group_name", ref("azurerm_resource_group.glacier.name")),
        ]

    def action(self, flow: Flow, step: Step, orchestrator: str, after: str | None = None) -> dict[str, Any]:
        """The scope that runs ``step``; ``after`` is the previous task of its VM, if any."""
        ex = self.plan.executor(step.executor)
        run_after = {u: ["Succeeded"] for u in sorted({*step.upstream, *([after] if after else [])})}
        identity = ref(f"azurerm_user_assigned_identity.{orchestrator}.id")
        if isinstance(ex.config, DatabricksConfig):
            action = self.databricks_scope(flow, step, identity)
        else:
            if isinstance(ex.config, AzureVMConfig):
                start = self.vm_command(flow, step, identity)
                limit: Any = template("PT${var.vm_task_timeout_seconds}S")
                count: Any = Raw(f"ceil(var.vm_task_timeout_seconds / {POLL}) + 2")
            else:
                start = self.function_start(flow, step)
                timeout = ex.config.timeout + 2 * POLL
                limit, count = _iso(timeout), timeout // POLL + 2
            action = {"type": "Scope", "actions": self.poll_outcome(step, start, identity, limit, count)}
        action["runAfter"] = run_after
        return action

    def body(self, flow: Flow, step: Step) -> dict[str, Any]:
        return {"pipeline": flow.pipeline, "task": step.node, "run": "@{workflow().run.name}",
                "staging": template(STAGING)}  # fmt: skip

    def retry(self, step: Step) -> dict[str, Any]:
        if step.retries:
            return {"type": "exponential", "count": step.retries, "interval": "PT5S"}
        return {"type": "none"}

    def function_start(self, flow: Flow, step: Step) -> dict[str, Any]:
        ex = self.plan.executor(step.executor)
        return {
            "type": "Function",
            "inputs": {
                "function": {
                    "id": template(f"${{azurerm_linux_function_app.{ex.ident}.id}}/functions/start")
                },
                "method": "POST",
                "body": self.body(flow, step),
                "retryPolicy": self.retry(step),
            },
        }

    def vm_command(self, flow: Flow, step: Step, identity: Raw) -> dict[str, Any]:
        ex = self.plan.executor(step.executor)
        values = dict(zip(VM_VALUES, (
            f"{flow.pipeline} {step.node} @{{workflow().run.name}} {STAGING}",
            "${var.storage_account_name}",
            f"${{azurerm_user_assigned_identity.{ex.ident}.client_id}}",
            "${azurerm_storage_blob.code.name}",
            "${azurerm_storage_blob.deps.name}",
        ), strict=True))  # fmt: skip
        lines = ", ".join(str(template(f"{k}='{v}'")) for k, v in values.items())
        script = Raw(f'concat([{lines}], split("\\n", file("${{path.module}}/{VM_TASK_FILE}")))')
        return {
            "type": "Http",
            "inputs": {
                "method": "POST",
                "uri": template(
                    f"https://management.azure.com${{azurerm_linux_virtual_machine.{ex.ident}.id}}"
                    "/runCommand?api-version=2024-07-01"
                ),
                "body": {"commandId": "RunShellScript", "script": script},
                "authentication": {
                    "type": "ManagedServiceIdentity",
                    "identity": identity,
                    "audience": "https://management.azure.com/",
                },
                "retryPolicy": self.retry(step),
            },
            "limit": {"timeout": "PT30M"},
        }

    def poll_outcome(
        self, step: Step, start: dict[str, Any], identity: Raw, limit: Any, count: Any
    ) -> dict[str, Any]:
        """Start the task, read its outcome record until it is not running, fail unless it succeeded."""
        n = step.ident
        started, until, poll = f"{n}_start", f"{n}_until", f"{n}_poll"
        outcome = f"body('{poll}')"
        uri = (
            "https://${var.storage_account_name}.blob.core.windows.net/glacier-artifacts/runs/"
            f"@{{workflow().run.name}}/{step.node}.outcome.json"
        )
        return {
            started: {**start, "runAfter": {}},
            until: {
                "type": "Until",
                "expression": f"@not(equals({outcome}?['status'], 'running'))",
                "limit": {"count": count, "timeout": limit},
                "actions": {
                    f"{n}_delay": {"type": "Wait", "inputs": {"interval": {"count": POLL, "unit": "Second"}},
                                   "runAfter": {}},
                    poll: {
                        "type": "Http",
                        "inputs": {
                            "method": "GET",
                            "uri": template(uri),
                            "headers": {"x-ms-version": "2021-08-06"},
                            "authentication": {"type": "ManagedServiceIdentity", "identity": identity,
                                               "audience": "https://storage.azure.com/"},
                        },
                        "runAfter": {f"{n}_delay": ["Succeeded"]},
                    },
                },
                "runAfter": {started: ["Succeeded"]},
            },
            f"{n}_check": {
                "type": "If",
                "expression": {"not": {"equals": [f"@{outcome}?['status']", "succeeded"]}},
                "actions": {
                    f"{n}_failed": {
                        "type": "Terminate",
                        "inputs": {"runStatus": "Failed", "runError": {
                            "code": "TaskFailed",
                            "message": f"@{{concat('task {step.node}: ', coalesce({outcome}?['message'], {outcome}?['status']))}}",
                        }},
                        "runAfter": {},
                    }
                },
                "runAfter": {until: ["Succeeded"]},
            },
        }  # fmt: skip

    def databricks_scope(self, flow: Flow, step: Step, identity: Raw) -> dict[str, Any]:
        """Databricks Jobs API: submit, poll until a terminal state (bounded), fail unless SUCCESS."""
        ex = self.plan.executor(step.executor)
        auth = {"type": "ManagedServiceIdentity", "identity": identity, "audience": DATABRICKS_APP}
        submit, poll = f"{step.ident}_submit", f"{step.ident}_poll"
        state = f"body('{poll}')?['state']"
        ended = ", ".join(
            f"equals({state}?['life_cycle_state'], '{s}')"
            for s in ("TERMINATED", "SKIPPED", "INTERNAL_ERROR")
        )
        return {
            "type": "Scope",
            "actions": {
                submit: {
                    "type": "Http",
                    "inputs": {
                        "method": "POST",
                        "uri": template("${var.databricks_host}/api/2.1/jobs/run-now"),
                        "body": {"job_id": ref(f"tonumber(databricks_job.{ex.ident}.id)"),
                                 "job_parameters": self.body(flow, step)},
                        "authentication": auth,
                        "retryPolicy": self.retry(step),
                    },
                    "runAfter": {},
                },
                f"{step.ident}_until": {
                    "type": "Until",
                    "expression": f"@or({ended})",
                    "limit": {"count": Raw(f"ceil(var.vm_task_timeout_seconds / {POLL}) + 2"),
                              "timeout": template("PT${var.vm_task_timeout_seconds}S")},
                    "actions": {
                        f"{step.ident}_delay": {"type": "Wait", "inputs": {"interval": {"count": POLL, "unit": "Second"}},
                                                "runAfter": {}},
                        poll: {
                            "type": "Http",
                            "inputs": {
                                "method": "GET",
                                "uri": template("${var.databricks_host}/api/2.1/jobs/runs/get?run_id=@{body('"
                                                + submit + "')?['run_id']}"),
                                "authentication": auth,
                            },
                            "runAfter": {f"{step.ident}_delay": ["Succeeded"]},
                        },
                    },
                    "runAfter": {submit: ["Succeeded"]},
                },
                f"{step.ident}_check": {
                    "type": "If",
                    "expression": {"not": {"equals": [f"@{state}?['result_state']", "SUCCESS"]}},
                    "actions": {
                        f"{step.ident}_failed": {
                            "type": "Terminate",
                            "inputs": {"runStatus": "Failed", "runError": {
                                "code": "TaskFailed",
                                "message": f"@{{concat('task {step.node} on Databricks: ', {state}?['life_cycle_state'], ' ', coalesce({state}?['result_state'], ''))}}",
                            }},
                            "runAfter": {},
                        }
                    },
                    "runAfter": {f"{step.ident}_until": ["Succeeded"]},
                },
            },
        }  # fmt: skip

    def flow(self, flow: Flow) -> list[Block]:
        n = flow.ident
        orch = f"{n}_orchestrator"
        out: list[Block] = [
            Block("resource", ("azurerm_user_assigned_identity", orch)).add(
                Attr("name", self.name(n, "orchestrator")), *self._rg(),
                Attr("tags", ref("var.tags")),
            )
        ]  # fmt: skip
        principal = ref(f"azurerm_user_assigned_identity.{orch}.principal_id")
        if any(not isinstance(self.plan.executor(s.executor).config, DatabricksConfig) for s in flow.steps):
            out.append(  # the Logic App reads the tasks' outcome records
                Block("resource", ("azurerm_role_assignment", f"{orch}_outcomes")).add(
                    Attr("scope", ref("azurerm_storage_container.glacier_artifacts.id")),
                    Attr("role_definition_name", "Storage Blob Data Reader"),
                    Attr("principal_id", principal),
                    Attr("principal_type", "ServicePrincipal"),
                    Attr("condition_version", "2.0"),
                    Attr("condition", _outcome_condition()),
                )
            )
        for e in sorted({s.executor for s in flow.steps}):
            ex = self.plan.executor(e)
            if isinstance(ex.config, AzureVMConfig):
                out.append(
                    Block("resource", ("azurerm_role_assignment", f"{orch}_{e}")).add(
                        Attr("scope", ref(f"azurerm_linux_virtual_machine.{e}.id")),
                        Attr("role_definition_name", "Virtual Machine Contributor"),
                        Attr("principal_id", principal),
                        Attr("principal_type", "ServicePrincipal"),
                    )
                )
            elif isinstance(ex.config, DatabricksConfig):
                out.append(
                    Block("resource", ("databricks_service_principal", f"{orch}_{e}")).add(
                        Attr("application_id", ref(f"azurerm_user_assigned_identity.{orch}.client_id")),
                        Attr("display_name", f"glacier {flow.pipeline} orchestrator"),
                    )
                )
                out.append(
                    Block("resource", ("databricks_permissions", f"{orch}_{e}")).add(
                        Attr("job_id", ref(f"databricks_job.{e}.id")),
                        Block("access_control").add(
                            Attr(
                                "service_principal_name",
                                ref(f"databricks_service_principal.{orch}_{e}.application_id"),
                            ),
                            Attr("permission_level", "CAN_MANAGE_RUN"),
                        ),
                    )
                )
        wf = Block("resource", ("azurerm_logic_app_workflow", n)).add(
            Attr("name", self.name(n)),
            *self._rg(),
            Block("identity").add(
                Attr("type", "UserAssigned"),
                Attr("identity_ids", [ref(f"azurerm_user_assigned_identity.{orch}.id")]),
            ),
            Attr("tags", ref("var.tags")),
        )
        out.append(wf)
        out.append(
            Block("resource", ("azurerm_logic_app_trigger_http_request", n)).add(
                Attr("name", "run"),
                Attr("logic_app_id", ref(f"azurerm_logic_app_workflow.{n}.id")),
                Attr("schema", Call("jsonencode", {"type": "object"})),
            )
        )
        is_vm = {e.ident: isinstance(e.config, AzureVMConfig) for e in self.plan.executors}
        after = vm_order(flow, is_vm)
        for step in flow.steps:
            ups = sorted({*step.upstream, *([after[step.ident]] if step.ident in after else [])})
            deps = [f"azurerm_logic_app_action_custom.{n}_{u}" for u in ups]
            block = Block("resource", ("azurerm_logic_app_action_custom", f"{n}_{step.ident}")).add(
                Attr("name", step.ident),
                Attr("logic_app_id", ref(f"azurerm_logic_app_workflow.{n}.id")),
                Attr("body", Call("jsonencode", self.action(flow, step, orch, after.get(step.ident)))),
            )
            if deps:
                block.attr("depends_on", [ref(d) for d in deps])
            out.append(block)
        return out
