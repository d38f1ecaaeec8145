"""Azure: Blob Storage, Azure Functions (Linux), Linux VMs, Databricks; a Logic App orchestrates.

Why a Logic App: its workflow is declarative infrastructure (each action names the actions
it runs after), so the pipeline's DAG maps onto it one to one, with full parallelism, and
needs no orchestration code deployed. Durable Functions would put the DAG in Python code.
"""

from __future__ import annotations

from typing import Any, ClassVar

from glacier.config.execution import AzureFunctionConfig, AzureVMConfig, DatabricksConfig
from glacier.config.storage import AzureBlobConfig
from glacier.errors import ConfigError
from glacier.terraform.base import Renderer, output, ref, variable
from glacier.terraform.databricks import databricks_files as _databricks_common
from glacier.terraform.databricks import databricks_job as _databricks_job
from glacier.terraform.hcl import Attr, Block, Call, Comment, template
from glacier.terraform.naming import slug
from glacier.terraform.plan import ExecutorSpec, Flow, Step

__all__ = ["AzureRenderer"]

DATABRICKS_APP = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d"
ACCOUNT = "azurerm_storage_account.data"
_BLOB = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"


def _dash(ident: str) -> str:
    return ident.replace("_", "-")


def _condition(actions: list[str], prefixes: list[str]) -> str:
    """ABAC condition limiting blob ``actions`` to paths starting with ``prefixes``."""
    acts = " AND ".join(f"!(ActionMatches{{'{_BLOB}/{a}'}})" for a in actions)
    paths = " OR ".join(f"@Resource[{_BLOB}:path] StringStartsWith '{p.rstrip('*')}'" for p in prefixes)
    return f"(({acts}) OR ({paths}))"


class AzureRenderer(Renderer):
    cloud: ClassVar[str] = "azure"
    orchestrator: ClassVar[str] = (
        "an Azure Logic App (one workflow per pipeline; each action runs after its upstream)"
    )
    providers: ClassVar[dict[str, tuple[str, str]]] = {
        "archive": ("hashicorp/archive", "~> 2.4"),
        "azurerm": ("hashicorp/azurerm", "~> 4.0"),
    }

    def local_runs_in(self) -> str:
        return (
            "Tasks bound to provider.local() run in an Azure Function (Linux) generated for their\n"
            "executor (the 'local' runner: 600 s), with its own least-privilege managed identity."
        )

    def variables(self) -> list[Block]:
        cfg = self.plan.provider_config
        account = getattr(cfg, "storage_account", None) or ("gl" + slug(self.plan.name).replace("-", ""))[:24]
        blocks = [
            variable("subscription_id", "string", "Azure subscription to deploy to.",
                     getattr(cfg, "subscription_id", None) or ...),
            variable("location", "string", "Azure region.", getattr(cfg, "location", None) or "eastus"),
            variable("resource_group_name", "string", "Resource group to create.",
                     getattr(cfg, "resource_group", None) or f"{slug(self.plan.name)}-rg"),
            variable("storage_account_name", "string", "Storage account holding every container.", account),
            variable("subnet_id", "string", "Subnet for virtual machines and private access."),
            variable("log_retention_days", "number", "Days to keep logs.", 365),
        ]  # fmt: skip
        if any(isinstance(e.config, AzureVMConfig) for e in self.plan.executors):
            blocks.append(
                variable("vm_admin_ssh_public_key", "string", "SSH public key of the VMs' admin user.")
            )
        return blocks

    def outputs(self) -> list[Block]:
        out = [
            output(
                "container_names",
                {b.name: ref(f"azurerm_storage_container.{b.ident}.name") for b in self.plan.buckets},
                "Data containers, by Glacier bucket name.",
            ),
            output("storage_account", ref(f"{ACCOUNT}.name"), "The storage account holding them."),
        ]
        functions = [e for e in self.plan.executors if e.kind in ("local", "serverless")]
        if functions:
            out.append(
                output(
                    "function_app_hostnames",
                    {
                        e.name: ref(f"azurerm_linux_function_app.{e.ident}.default_hostname")
                        for e in functions
                    },
                    "Function apps, by executor name.",
                )
            )
        out.append(
            output(
                "logic_app_ids",
                {f.pipeline: ref(f"azurerm_logic_app_workflow.{f.ident}.id") for f in self.plan.flows},
                "Logic App workflows, by pipeline name: trigger one to run the pipeline.",
            )
        )
        return out

    # -- main --------------------------------------------------------------------------
    def main(self) -> list[Any]:
        plan = self.plan
        provider = Block("provider", ("azurerm",)).add(
            Attr("subscription_id", ref("var.subscription_id")),
            Attr("storage_use_azuread", True),
            Block("features"),
        )
        items: list[Any] = [provider]
        if any(isinstance(e.config, DatabricksConfig) for e in plan.executors):
            items.append(
                Block("provider", ("databricks",)).add(
                    Attr("host", ref("var.databricks_host")), Attr("token", ref("var.databricks_token"))
                )
            )
        items += [
            Block("data", ("archive_file", "code")).add(
                Attr("type", "zip"),
                Attr("source_dir", template("${path.module}/src")),
                Attr("output_path", template("${path.module}/build/code.zip")),
            ),
            Block("resource", ("azurerm_resource_group", "glacier")).add(
                Attr("name", ref("var.resource_group_name")),
                Attr("location", ref("var.location")),
                Attr("tags", ref("var.tags")),
            ),
            Block("resource", ("azurerm_log_analytics_workspace", "glacier")).add(
                Attr("name", template("${var.name_prefix}-logs")),
                Attr("location", ref("azurerm_resource_group.glacier.location")),
                Attr("resource_group_name", ref("azurerm_resource_group.glacier.name")),
                Attr("sku", "PerGB2018"),
                Attr("retention_in_days", ref("var.log_retention_days")),
                Attr("tags", ref("var.tags")),
            ),
            *self.storage(),
        ]
        for ex in plan.executors:
            items += self.identity(ex)
            items += self.compute(ex)
        for flow in plan.flows:
            items += self.logic_app(flow)
        return items

    def _rg(self) -> list[Attr]:
        return [
            Attr("location", ref("azurerm_resource_group.glacier.location")),
            Attr("resource_group_name", ref("azurerm_resource_group.glacier.name")),
        ]

    def storage(self) -> list[Block]:
        configs = [b.config for b in self.plan.buckets] or [AzureBlobConfig()]
        for field in ("replication", "versioning"):
            values = {getattr(c, field) for c in configs}
            if len(values) > 1:
                raise ConfigError(
                    f"buckets ask for different AzureBlobConfig {field} values ({', '.join(sorted(map(str, values)))}): "
                    "on Azure it is a storage-account setting, so every bucket of one pipeline needs the same"
                )
        cfg = configs[0]
        assert isinstance(cfg, AzureBlobConfig)
        tiers = {c.tier for c in configs}  # type: ignore[attr-defined]
        access_tier = "Cool" if tiers == {"cool"} else "Hot"
        account = Block("resource", ("azurerm_storage_account", "data")).add(
            Comment(
                "#checkov:skip=CKV2_AZURE_1:encrypted with Microsoft-managed keys (infrastructure encryption on)"
            ),
            Attr("name", ref("var.storage_account_name")),
            *self._rg(),
            Attr("account_tier", "Standard"),
            Attr("account_kind", "StorageV2"),
            Attr("account_replication_type", cfg.replication),
            Attr("access_tier", access_tier),
            Attr("https_traffic_only_enabled", True),
            Attr("min_tls_version", "TLS1_2"),
            Attr("allow_nested_items_to_be_public", False),
            Attr("shared_access_key_enabled", False),
            Attr("public_network_access_enabled", False),
            Attr("infrastructure_encryption_enabled", True),
            Attr("tags", ref("var.tags")),
        )
        if cfg.replication in ("LRS", "ZRS"):
            account.body.insert(
                1, Comment("#checkov:skip=CKV_AZURE_206:replication as the buckets' AzureBlobConfig asks")
            )
        props = account.block("blob_properties").attr("versioning_enabled", cfg.versioning)
        props.block("delete_retention_policy").attr("days", 7)
        props.block("container_delete_retention_policy").attr("days", 7)
        account.block("sas_policy").attr("expiration_period", "01.00:00:00")
        logging = account.block("queue_properties").block("logging")
        logging.add(
            Attr("delete", True), Attr("read", True), Attr("write", True), Attr("version", "1.0"),
            Attr("retention_policy_days", 30),
        )  # fmt: skip
        account.block("network_rules").add(
            Attr("default_action", "Deny"),
            Attr("bypass", ["AzureServices", "Logging", "Metrics"]),
            Attr("virtual_network_subnet_ids", [ref("var.subnet_id")]),
        )
        endpoint = Block("resource", ("azurerm_private_endpoint", "blob")).add(
            Attr("name", template("${var.name_prefix}-blob")),
            *self._rg(),
            Attr("subnet_id", ref("var.subnet_id")),
            Block("private_service_connection").add(
                Attr("name", "blob"),
                Attr("private_connection_resource_id", ref(f"{ACCOUNT}.id")),
                Attr("subresource_names", ["blob"]),
                Attr("is_manual_connection", False),
            ),
        )
        diagnostics = Block("resource", ("azurerm_monitor_diagnostic_setting", "blob")).add(
            Attr("name", "glacier-blob-logs"),
            Attr("target_resource_id", template(f"${{{ACCOUNT}.id}}/blobServices/default")),
            Attr("log_analytics_workspace_id", ref("azurerm_log_analytics_workspace.glacier.id")),
            *(
                Block("enabled_log").attr("category", c)
                for c in ("StorageRead", "StorageWrite", "StorageDelete")
            ),
        )
        out = [account, endpoint, diagnostics]
        names = [("glacier_artifacts", "glacier-artifacts", "hot")] + [
            (b.ident, b.name, b.config.tier)
            for b in self.plan.buckets  # type: ignore[attr-defined]
        ]
        rules = []
        for ident_, name, tier in names:
            out.append(
                Block("resource", ("azurerm_storage_container", ident_)).add(
                    Comment(
                        "#checkov:skip=CKV2_AZURE_21:blob read/write/delete logs go to Log Analytics through "
                        "azurerm_monitor_diagnostic_setting.blob (checkov only knows the legacy storage insights)"
                    ),
                    Attr("name", name),
                    Attr("storage_account_id", ref(f"{ACCOUNT}.id")),
                    Attr("container_access_type", "private"),
                )
            )
            if tier.capitalize() != access_tier:
                rule = Block("rule").add(Attr("name", f"tier-{_dash(ident_)}"), Attr("enabled", True))
                rule.block("filters").add(
                    Attr("prefix_match", [f"{name}/"]), Attr("blob_types", ["blockBlob"])
                )
                rule.block("actions").block("base_blob").attr(
                    f"tier_to_{tier}_after_days_since_modification_greater_than", 0
                )
                rules.append(rule)
        out.append(
            Block("resource", ("azurerm_storage_blob", "code")).add(
                Attr("name", "code/code.zip"),
                Attr("storage_account_name", ref(f"{ACCOUNT}.name")),
                Attr("storage_container_name", ref("azurerm_storage_container.glacier_artifacts.name")),
                Attr("type", "Block"),
                Attr("source", ref("data.archive_file.code.output_path")),
                Attr("content_md5", ref("data.archive_file.code.output_md5")),
            )
        )
        if rules:
            out.append(
                Block("resource", ("azurerm_storage_management_policy", "tiers")).add(
                    Attr("storage_account_id", ref(f"{ACCOUNT}.id")), *rules
                )
            )
        return out

    # -- identities --------------------------------------------------------------------
    def identity(self, ex: ExecutorSpec) -> list[Block]:
        out = [
            Block("resource", ("azurerm_user_assigned_identity", ex.ident)).add(
                Attr("name", template(f"${{var.name_prefix}}-{_dash(ex.ident)}")),
                *self._rg(),
                Attr("tags", ref("var.tags")),
            )
        ]
        principal = ref(f"azurerm_user_assigned_identity.{ex.ident}.principal_id")
        grants: list[tuple[str, str, str, list[str], list[str]]] = []
        read_actions = ["read"]
        write_actions = ["read", "write", "add/action", "delete"]
        for b in self.plan.buckets:
            if b.name not in ex.access:
                continue
            reads, writes = ex.access[b.name]
            if reads - writes:
                grants.append(
                    (
                        f"{b.ident}_read",
                        b.ident,
                        "Storage Blob Data Reader",
                        sorted(reads - writes),
                        read_actions,
                    )
                )
            if writes:
                grants.append(
                    (
                        f"{b.ident}_write",
                        b.ident,
                        "Storage Blob Data Contributor",
                        sorted(writes),
                        write_actions,
                    )
                )
        grants.append(
            (
                "artifacts",
                "glacier_artifacts",
                "Storage Blob Data Contributor",
                ["code/*", "runs/*"],
                write_actions,
            )
        )
        for key, container, role, prefixes, actions in grants:
            ra = Block("resource", ("azurerm_role_assignment", f"{ex.ident}_{key}")).add(
                Attr("scope", ref(f"azurerm_storage_container.{container}.id")),
                Attr("role_definition_name", role),
                Attr("principal_id", principal),
                Attr("principal_type", "ServicePrincipal"),
            )
            if "*" not in prefixes:
                ra.add(Attr("condition_version", "2.0"), Attr("condition", _condition(actions, prefixes)))
            out.append(ra)
        return out

    # -- compute -----------------------------------------------------------------------
    def compute(self, ex: ExecutorSpec) -> list[Block]:
        if ex.kind in ("local", "serverless"):
            return self.function(ex)
        if isinstance(ex.config, AzureVMConfig):
            return self.vm(ex)
        return self.databricks(ex)

    def function(self, ex: ExecutorSpec) -> list[Block]:
        cfg = ex.config
        assert isinstance(cfg, AzureFunctionConfig)
        n = ex.ident
        plan_ = Block("resource", ("azurerm_service_plan", n))
        if cfg.sku in ("Y1", "FC1"):
            reason = (
                "consumption plans scale per request; zones and instance minimums are Premium-plan settings"
            )
            plan_.add(
                Comment(f"#checkov:skip=CKV_AZURE_212:{reason}"),
                Comment(f"#checkov:skip=CKV_AZURE_225:{reason}"),
            )
        plan_.add(
            Attr("name", template(f"${{var.name_prefix}}-{_dash(n)}")),
            *self._rg(),
            Attr("os_type", "Linux"),
            Attr("sku_name", cfg.sku),
            Attr("tags", ref("var.tags")),
        )
        if cfg.sku.startswith("EP"):
            plan_.add(Attr("zone_balancing_enabled", True), Attr("worker_count", 3))
        insights = Block("resource", ("azurerm_application_insights", n)).add(
            Attr("name", template(f"${{var.name_prefix}}-{_dash(n)}")),
            *self._rg(),
            Attr("workspace_id", ref("azurerm_log_analytics_workspace.glacier.id")),
            Attr("application_type", "other"),
            Attr("tags", ref("var.tags")),
        )
        minutes, seconds = divmod(cfg.timeout, 60)
        app = Block("resource", ("azurerm_linux_function_app", n)).add(
            Attr("name", template(f"${{var.name_prefix}}-{_dash(n)}")),
            *self._rg(),
            Attr("service_plan_id", ref(f"azurerm_service_plan.{n}.id")),
            Attr("storage_account_name", ref(f"{ACCOUNT}.name")),
            Attr("storage_uses_managed_identity", True),
            Attr("https_only", True),
            Attr("public_network_access_enabled", False),
            Attr("zip_deploy_file", ref("data.archive_file.code.output_path")),
            Attr("key_vault_reference_identity_id", ref(f"azurerm_user_assigned_identity.{n}.id")),
            Attr(
                "app_settings",
                {
                    "AzureFunctionsJobHost__functionTimeout": f"00:{minutes:02d}:{seconds:02d}",
                    "AzureWebJobsStorage__clientId": ref(f"azurerm_user_assigned_identity.{n}.client_id"),
                    "AzureWebJobsStorage__credential": "managedidentity",
                    "GLACIER_MEMORY_MB": str(cfg.memory),
                },
            ),
            Attr("tags", ref("var.tags")),
        )
        app.block("identity").add(
            Attr("type", "UserAssigned"),
            Attr("identity_ids", [ref(f"azurerm_user_assigned_identity.{n}.id")]),
        )
        site = app.block("site_config").add(
            Attr("minimum_tls_version", "1.2"),
            Attr("ftps_state", "Disabled"),
            Attr("http2_enabled", True),
            Attr(
                "application_insights_connection_string",
                ref(f"azurerm_application_insights.{n}.connection_string"),
            ),
        )
        site.block("application_stack").attr("python_version", cfg.runtime)
        return [plan_, insights, app]

    def vm(self, ex: ExecutorSpec) -> list[Block]:
        cfg = ex.config
        assert isinstance(cfg, AzureVMConfig)
        n = ex.ident
        publisher, offer, sku, version = cfg.image.split(":")
        nic = Block("resource", ("azurerm_network_interface", n)).add(
            Attr("name", template(f"${{var.name_prefix}}-{_dash(n)}")), *self._rg(),
            Block("ip_configuration").add(
                Attr("name", "internal"), Attr("subnet_id", ref("var.subnet_id")),
                Attr("private_ip_address_allocation", "Dynamic"),
            ),
        )  # fmt: skip
        vm = Block("resource", ("azurerm_linux_virtual_machine", n)).add(
            Attr("name", template(f"${{var.name_prefix}}-{_dash(n)}")),
            *self._rg(),
            Attr("size", cfg.vm_size),
            Attr("admin_username", "glacier"),
            Attr("disable_password_authentication", True),
            Attr("network_interface_ids", [ref(f"azurerm_network_interface.{n}.id")]),
            Attr("encryption_at_host_enabled", True),
            Attr("secure_boot_enabled", True),
            Attr("vtpm_enabled", True),
            Attr("allow_extension_operations", False),
            Attr("tags", ref("var.tags")),
        )
        vm.block("admin_ssh_key").add(
            Attr("username", "glacier"), Attr("public_key", ref("var.vm_admin_ssh_public_key"))
        )
        vm.block("os_disk").add(
            Attr("caching", "ReadWrite"),
            Attr("storage_account_type", "Premium_LRS"),
            Attr("disk_size_gb", cfg.disk_size_gb),
        )
        vm.block("source_image_reference").add(
            Attr("publisher", publisher), Attr("offer", offer), Attr("sku", sku), Attr("version", version)
        )
        vm.block("identity").add(
            Attr("type", "UserAssigned"),
            Attr("identity_ids", [ref(f"azurerm_user_assigned_identity.{n}.id")]),
        )
        return [nic, vm]

    def databricks(self, ex: ExecutorSpec) -> list[Block]:
        cfg = ex.config
        assert isinstance(cfg, DatabricksConfig)
        n = ex.ident
        items: list[Any] = [
            Block("resource", ("azurerm_databricks_access_connector", n)).add(
                Attr("name", template(f"${{var.name_prefix}}-{_dash(n)}")),
                *self._rg(),
                Block("identity").add(
                    Attr("type", "UserAssigned"),
                    Attr("identity_ids", [ref(f"azurerm_user_assigned_identity.{n}.id")]),
                ),
                Attr("tags", ref("var.tags")),
            ),
            *_databricks_common(ex, list(self.plan.modules)),
        ]
        job = _databricks_job(ex)
        if cfg.cluster_id is None:
            nc = job.block("job_cluster").attr("job_cluster_key", "glacier").block("new_cluster")
            nc.add(
                Attr("spark_version", cfg.spark_version),
                Attr("node_type_id", cfg.instance_type or ref(f"data.databricks_node_type.{n}.id")),
                Attr("num_workers", cfg.num_workers),
            )
            if cfg.instance_type is None:
                items.append(Block("data", ("databricks_node_type", n)).attr("local_disk", True))
        items.append(job)
        return items

    # -- orchestrator ------------------------------------------------------------------
    def action(self, flow: Flow, step: Step, orchestrator: str) -> dict[str, Any]:
        ex = self.plan.executor(step.executor)
        run_after = {u: ["Succeeded"] for u in step.upstream}
        staging = template("az://glacier-artifacts/runs")
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
                                "@{workflow().run.name} az://glacier-artifacts/runs"
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

    def logic_app(self, flow: Flow) -> list[Block]:
        n = flow.ident
        orch = f"{n}_orchestrator"
        out: list[Block] = [
            Block("resource", ("azurerm_user_assigned_identity", orch)).add(
                Attr("name", template(f"${{var.name_prefix}}-{_dash(n)}-orchestrator")), *self._rg(),
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
            Attr("name", template(f"${{var.name_prefix}}-{_dash(n)}")),
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

    def render(self) -> dict[str, str]:
        files = super().render()
        files["src/function_app.py"] = FUNCTION_APP
        files["src/host.json"] = '{\n  "version": "2.0"\n}\n'
        return dict(sorted(files.items()))


FUNCTION_APP = '''"""Generated by Glacier: the Azure Functions (Python v2 model) entry point."""

import json

import azure.functions as func

from glacier_handler import handler

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)


@app.route(route="run", methods=["POST"])
def run(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(handler(req.get_json())), mimetype="application/json")
'''
