"""The Azure orchestrator: one Logic App workflow per pipeline, one action per task.

Why a Logic App: its workflow is declarative infrastructure (each action names the actions
it runs after), so the pipeline's DAG maps onto it one to one, with full parallelism, and
needs no orchestration code deployed. Durable Functions would put the DAG in Python code.
"""

from __future__ import annotations

from typing import Any

from glacier.config.execution import AzureFunctionConfig, AzureVMConfig, DatabricksConfig
from glacier.config.storage import AzureBlobConfig
from glacier.terraform.base import Renderer, ref
from glacier.terraform.hcl import Attr, Block, Call, template
from glacier.terraform.plan import Flow, Step

__all__ = ["LogicApps", "FUNCTION_APP"]

#: Where tasks pass frames: the artifacts container, with its storage account.
STAGING = "abfss://glacier-artifacts@${var.storage_account_name}.dfs.core.windows.net/runs"

#: The application id of Azure Databricks (the audience of its tokens).
DATABRICKS_APP = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d"


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

    def action(self, flow: Flow, step: Step, orchestrator: str) -> dict[str, Any]:
        ex = self.plan.executor(step.executor)
        run_after = {u: ["Succeeded"] for u in step.upstream}
        # complete: the account is in the URI (polars needs it; "az://container/..." names none)
        staging = template(STAGING)
        body = {
            "pipeline": flow.pipeline,
            "task": step.node,
            "run": "@{workflow().run.name}",
            "staging": staging,
        }
        identity = ref(f"azurerm_user_assigned_identity.{orchestrator}.id")
        retry = (
            {"type": "exponential", "count": step.retries, "interval": "PT5S"}
            if step.retries
            else {"type": "none"}
        )
        if ex.kind in ("local", "serverless"):
            action: dict[str, Any] = {
                "type": "Function",
                "inputs": {
                    "function": {
                        "id": template(f"${{azurerm_linux_function_app.{ex.ident}.id}}/functions/run")
                    },
                    "method": "POST",
                    "body": body,
                    "retryPolicy": retry,
                },
            }
        elif isinstance(ex.config, AzureVMConfig):
            action = {
                "type": "Http",
                "inputs": {
                    "method": "POST",
                    "uri": template(
                        f"https://management.azure.com${{azurerm_linux_virtual_machine.{ex.ident}.id}}"
                        "/runCommand?api-version=2024-07-01"
                    ),
                    "body": {
                        "commandId": "RunShellScript",
                        "script": [
                            template(
                                f"az login --identity --client-id ${{azurerm_user_assigned_identity.{ex.ident}.client_id}} && "
                                "az storage blob download --auth-mode login --account-name ${var.storage_account_name} "
                                "-c glacier-artifacts -n code/code.zip -f /tmp/glacier-code.zip && "
                                "mkdir -p /opt/glacier && python3 -m zipfile -e /tmp/glacier-code.zip /opt/glacier && "
                                f"python3 /opt/glacier/glacier_handler.py {flow.pipeline} {step.node} "
                                f"@{{workflow().run.name}} {STAGING}"
                            )
                        ],
                    },
                    "authentication": {
                        "type": "ManagedServiceIdentity",
                        "identity": identity,
                        "audience": "https://management.azure.com/",
                    },
                    "retryPolicy": retry,
                },
            }
        else:  # Databricks Jobs API: submit, poll until TERMINATED, fail unless SUCCESS
            auth = {"type": "ManagedServiceIdentity", "identity": identity, "audience": DATABRICKS_APP}
            submit, poll = f"{step.ident}_submit", f"{step.ident}_poll"
            state = f"body('{poll}')?['state']"
            action = {
                "type": "Scope",
                "actions": {
                    submit: {
                        "type": "Http",
                        "inputs": {
                            "method": "POST",
                            "uri": template("${var.databricks_host}/api/2.1/jobs/run-now"),
                            "body": {
                                "job_id": ref(f"tonumber(databricks_job.{ex.ident}.id)"),
                                "job_parameters": body,
                            },
                            "authentication": auth,
                            "retryPolicy": retry,
                        },
                        "runAfter": {},
                    },
                    f"{step.ident}_until": {
                        "type": "Until",
                        "expression": f"@equals({state}?['life_cycle_state'], 'TERMINATED')",
                        "limit": {"count": 2880, "timeout": "PT24H"},
                        "actions": {
                            f"{step.ident}_delay": {
                                "type": "Wait",
                                "inputs": {"interval": {"count": 30, "unit": "Second"}},
                                "runAfter": {},
                            },
                            poll: {
                                "type": "Http",
                                "inputs": {
                                    "method": "GET",
                                    "uri": template(
                                        "${var.databricks_host}/api/2.1/jobs/runs/get?run_id=@{body('"
                                        + submit
                                        + "')?['run_id']}"
                                    ),
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
                                "inputs": {
                                    "runStatus": "Failed",
                                    "runError": {"message": f"task {step.node} failed"},
                                },
                                "runAfter": {},
                            }
                        },
                        "runAfter": {f"{step.ident}_until": ["Succeeded"]},
                    },
                },
            }
        action["runAfter"] = run_after
        return action

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
        for step in flow.steps:
            deps = [f"azurerm_logic_app_action_custom.{n}_{u}" for u in step.upstream]
            block = Block("resource", ("azurerm_logic_app_action_custom", f"{n}_{step.ident}")).add(
                Attr("name", step.ident),
                Attr("logic_app_id", ref(f"azurerm_logic_app_workflow.{n}.id")),
                Attr("body", Call("jsonencode", self.action(flow, step, orch))),
            )
            if deps:
                block.attr("depends_on", [ref(d) for d in deps])
            out.append(block)
        return out


FUNCTION_APP = '''"""Generated by Glacier: the Azure Functions (Python v2 model) entry point."""

import json

import azure.functions as func

from glacier_handler import handler

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)


@app.route(route="run", methods=["POST"])
def run(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(handler(req.get_json())), mimetype="application/json")
'''
