"""Azure: Blob Storage, Azure Functions (Linux), Linux VMs, Databricks; a Logic App orchestrates.

The Logic App (the orchestrator) is in ``logicapp.py``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from glacier.clouds.azure.logicapp import LogicApps, deployed_env
from glacier.clouds.azure.package import FUNCTION_APP, host_json
from glacier.clouds.azure.scripts import VM_TASK, VM_TASK_FILE
from glacier.config.execution import AzureFunctionConfig, AzureVMConfig, DatabricksConfig
from glacier.config.storage import AzureBlobConfig
from glacier.errors import ConfigError
from glacier.terraform.base import output, ref, variable
from glacier.terraform.hcl import Attr, Block, Call, Comment, Raw, template
from glacier.terraform.naming import slug
from glacier.terraform.plan import ExecutorSpec

__all__ = ["AzureRenderer"]

ACCOUNT = "azurerm_storage_account.data"
_BLOB = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"


def _condition(actions: list[str], prefixes: list[str]) -> str:
    """ABAC condition limiting blob ``actions`` to paths starting with ``prefixes``."""
    acts = " AND ".join(f"!(ActionMatches{{'{_BLOB}/{a}'}})" for a in actions)
    paths = " OR ".join(f"@Resource[{_BLOB}:path] StringStartsWith '{p.rstrip('*')}'" for p in prefixes)
    return f"(({acts}) OR ({paths}))"


class AzureRenderer(LogicApps):
    cloud: ClassVar[str] = "azure"
    orchestrator: ClassVar[str] = (
        "an Azure Logic App (one workflow per pipeline; each action runs after its upstream)"
    )
    ordering: ClassVar[str] = (
        "Each task starts when its own inputs are ready (runAfter): independent branches run in parallel;\n"
        "the tasks of one VM run one after another."
    )
    providers: ClassVar[dict[str, tuple[str, str]]] = {
        "archive": ("hashicorp/archive", "~> 2.4"),
        "azurerm": ("hashicorp/azurerm", "~> 4.0"),
    }
    needs_requirements = True
    bucket_output = (
        "container_names",
        "azurerm_storage_container.{}.name",
        "Data containers, by Glacier bucket name.",
    )
    function_output = (
        "function_app_hostnames",
        "azurerm_linux_function_app.{}.default_hostname",
        "Function apps, by executor name.",
    )
    flow_output = (
        "logic_app_ids",
        "azurerm_logic_app_workflow.{}.id",
        "Logic App workflows, by pipeline name: trigger one to run the pipeline.",
    )

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
        if self.vms():
            blocks.append(
                variable("vm_admin_ssh_public_key", "string", "SSH public key of the VMs' admin user.")
            )
        if self.vms() or self.uses(DatabricksConfig):
            blocks.append(
                variable(
                    "vm_task_timeout_seconds",
                    "number",
                    "How long a Logic App waits for a task on a VM or cluster before it fails the run.",
                    21600,
                )
            )
        blocks.append(
            variable(
                "storage_network_default_action",
                "string",
                "The storage account's network rule for addresses outside var.subnet_id: 'Allow' lets "
                "consumption-plan functions and the machine running Terraform reach it (Entra ID only: "
                "shared keys are off); 'Deny' needs functions on a VNet-integrated plan (EP1-EP3).",
                "Allow",
            )
        )
        return blocks

    def vms(self) -> list[str]:
        """Identifiers of the VM executors (their code and dependencies are uploaded as blobs)."""
        return [e.ident for e in self.plan.executors if isinstance(e.config, AzureVMConfig)]

    def extra_outputs(self) -> list[Block]:
        return [output("storage_account", ref(f"{ACCOUNT}.name"), "The storage account holding them.")]

    # -- main --------------------------------------------------------------------------
    def provider(self) -> Block:
        return Block("provider", ("azurerm",)).add(
            Attr("subscription_id", ref("var.subscription_id")),
            Attr("storage_use_azuread", True),
            Block("features"),
        )

    def foundation(self) -> list[Any]:
        return [
            self.archive(),
            Block("resource", ("azurerm_resource_group", "glacier")).add(
                Attr("name", ref("var.resource_group_name")),
                Attr("location", ref("var.location")),
                Attr("tags", ref("var.tags")),
            ),
            Block("resource", ("azurerm_log_analytics_workspace", "glacier")).add(
                Attr("name", self.name("logs")),
                Attr("location", ref("azurerm_resource_group.glacier.location")),
                Attr("resource_group_name", ref("azurerm_resource_group.glacier.name")),
                Attr("sku", "PerGB2018"),
                Attr("retention_in_days", ref("var.log_retention_days")),
                Attr("tags", ref("var.tags")),
            ),
            *self.account(),
        ]

    def account(self) -> list[Block]:
        """The storage account holding every container, private, with its logs and tiers."""
        configs = [self.storage(b) for b in self.plan.buckets] or [AzureBlobConfig()]
        for field in ("replication", "versioning"):
            values = {getattr(c, field) for c in configs}
            if len(values) > 1:
                raise ConfigError(
                    f"buckets ask for different AzureBlobConfig {field} values ({', '.join(sorted(map(str, values)))}): "
                    "on Azure it is a storage-account setting, so every bucket of one pipeline needs the same"
                )
        cfg = configs[0]
        tiers = {c.tier for c in configs}
        access_tier = "Cool" if tiers == {"cool"} else "Hot"
        public = (
            "consumption-plan functions, the Logic App's reads and the machine running Terraform reach "
            "the account over its public endpoint, with Entra ID only (shared keys off); "
            "var.storage_network_default_action = 'Deny' closes it"
        )
        account = Block("resource", ("azurerm_storage_account", "data")).add(
            Comment(
                "#checkov:skip=CKV2_AZURE_1:encrypted with Microsoft-managed keys (infrastructure encryption on)"
            ),
            Comment(f"#checkov:skip=CKV_AZURE_59:{public}"),
            Comment(f"#checkov:skip=CKV_AZURE_35:{public}"),
            Comment(
                "#checkov:skip=CKV_AZURE_33:queue logs go to Log Analytics through "
                "azurerm_monitor_diagnostic_setting.queue (queue_properties is a data-plane call)"
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
            Attr("public_network_access_enabled", True),
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
        account.block("network_rules").add(
            Attr("default_action", ref("var.storage_network_default_action")),
            Attr("bypass", ["AzureServices", "Logging", "Metrics"]),
            Attr("virtual_network_subnet_ids", [ref("var.subnet_id")]),
        )
        endpoint = Block("resource", ("azurerm_private_endpoint", "blob")).add(
            Attr("name", self.name("blob")),
            *self._rg(),
            Attr("subnet_id", ref("var.subnet_id")),
            Block("private_service_connection").add(
                Attr("name", "blob"),
                Attr("private_connection_resource_id", ref(f"{ACCOUNT}.id")),
                Attr("subresource_names", ["blob"]),
                Attr("is_manual_connection", False),
            ),
        )
        diagnostics = [
            Block("resource", ("azurerm_monitor_diagnostic_setting", service)).add(
                Attr("name", f"glacier-{service}-logs"),
                Attr("target_resource_id", template(f"${{{ACCOUNT}.id}}/{service}Services/default")),
                Attr("log_analytics_workspace_id", ref("azurerm_log_analytics_workspace.glacier.id")),
                *(
                    Block("enabled_log").attr("category", c)
                    for c in ("StorageRead", "StorageWrite", "StorageDelete")
                ),
            )
            for service in ("blob", "queue")
        ]
        out = [account, endpoint, *diagnostics]
        names = [("glacier_artifacts", "glacier-artifacts", "hot")] + [
            (b.ident, b.name, self.storage(b).tier) for b in self.plan.buckets
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
                rule = Block("rule").add(Attr("name", f"tier-{slug(ident_)}"), Attr("enabled", True))
                rule.block("filters").add(
                    Attr("prefix_match", [f"{name}/"]), Attr("blob_types", ["blockBlob"])
                )
                rule.block("actions").block("base_blob").attr(
                    f"tier_to_{tier}_after_days_since_modification_greater_than", 0
                )
                rules.append(rule)
        out += self.vm_blobs()
        if rules:
            out.append(
                Block("resource", ("azurerm_storage_management_policy", "tiers")).add(
                    Attr("storage_account_id", ref(f"{ACCOUNT}.id")), *rules
                )
            )
        return out

    def vm_blobs(self) -> list[Block]:
        """The code and dependency archives VMs download, uploaded by the machine running
        Terraform with its own Entra ID identity (given the blob role it needs first)."""
        if not self.vms():
            return []
        container = "azurerm_storage_container.glacier_artifacts"
        out: list[Block] = [
            Block("data", ("azurerm_client_config", "current")),
            Block("resource", ("azurerm_role_assignment", "deployer_artifacts")).add(
                Comment(
                    "The identity running Terraform uploads the VMs' archives (Entra ID; no shared key)."
                ),
                Attr("scope", ref(f"{container}.id")),
                Attr("role_definition_name", "Storage Blob Data Contributor"),
                Attr("principal_id", ref("data.azurerm_client_config.current.object_id")),
            ),
        ]
        for label, name, source in (
            ("code", template("code/code-${data.archive_file.code.output_md5}.zip"),
             ref("data.archive_file.code.output_path")),
            ("deps", Call("format", "code/deps-%s.zip", Raw('filemd5("${path.module}/build/azure/deps.zip")')),
             template("${path.module}/build/azure/deps.zip")),
        ):  # fmt: skip
            out.append(
                Block("resource", ("azurerm_storage_blob", label)).add(
                    Attr("name", name),
                    Attr("storage_account_name", ref(f"{ACCOUNT}.name")),
                    Attr("storage_container_name", ref(f"{container}.name")),
                    Attr("type", "Block"),
                    Attr("source", source),
                    Attr("depends_on", [Raw("azurerm_role_assignment.deployer_artifacts")]),
                )
            )
        return out

    # -- identities --------------------------------------------------------------------
    def identity(self, ex: ExecutorSpec) -> list[Block]:
        out = [
            Block("resource", ("azurerm_user_assigned_identity", ex.ident)).add(
                Attr("name", self.name(ex.ident)),
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
    def function(self, ex: ExecutorSpec, cfg: AzureFunctionConfig) -> list[Block]:
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
            Attr("name", self.name(n)),
            *self._rg(),
            Attr("os_type", "Linux"),
            Attr("sku_name", cfg.sku),
            Attr("tags", ref("var.tags")),
        )
        if cfg.sku.startswith("EP"):
            plan_.add(Attr("zone_balancing_enabled", True), Attr("worker_count", 3))
        insights = Block("resource", ("azurerm_application_insights", n)).add(
            Attr("name", self.name(n)),
            *self._rg(),
            Attr("workspace_id", ref("azurerm_log_analytics_workspace.glacier.id")),
            Attr("application_type", "other"),
            Attr("tags", ref("var.tags")),
        )
        minutes, seconds = divmod(cfg.timeout, 60)
        app = Block("resource", ("azurerm_linux_function_app", n)).add(
            Comment(
                "#checkov:skip=CKV_AZURE_221:the Logic App (multi-tenant) calls it over the internet with the "
                "function key; ip_restriction admits only the LogicApps service tag"
            ),
            Attr("name", self.name(n)),
            *self._rg(),
            Attr("service_plan_id", ref(f"azurerm_service_plan.{n}.id")),
            Attr("storage_account_name", ref(f"{ACCOUNT}.name")),
            Attr("storage_uses_managed_identity", True),
            Attr("https_only", True),
            # the Logic App (multi-tenant) calls it over the internet, with the function key;
            # site_config allows only the LogicApps service tag (deploys go to the SCM site)
            Attr("public_network_access_enabled", True),
            # the v2 app `glacier terraform` builds; the remote build installs its pinned requirements.txt
            Attr("zip_deploy_file", template("${path.module}/build/azure/function_app.zip")),
            Attr("key_vault_reference_identity_id", ref(f"azurerm_user_assigned_identity.{n}.id")),
            Attr(
                "app_settings",
                {
                    "AzureFunctionsJobHost__functionTimeout": f"00:{minutes:02d}:{seconds:02d}",
                    "AzureWebJobsStorage__clientId": ref(f"azurerm_user_assigned_identity.{n}.client_id"),
                    "AzureWebJobsStorage__credential": "managedidentity",
                    "AZURE_CLIENT_ID": ref(f"azurerm_user_assigned_identity.{n}.client_id"),
                    "ENABLE_ORYX_BUILD": "true",
                    **deployed_env(),
                    "GLACIER_MEMORY_MB": str(cfg.memory),
                    "SCM_DO_BUILD_DURING_DEPLOYMENT": "true",
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
        site.add(Attr("ip_restriction_default_action", "Deny"))
        site.block("ip_restriction").add(
            Attr("name", "logic-apps"), Attr("service_tag", "LogicApps"), Attr("action", "Allow"),
            Attr("priority", 100),
        )  # fmt: skip
        site.block("application_stack").attr("python_version", cfg.runtime)
        return [plan_, insights, app]

    def vm(self, ex: ExecutorSpec, cfg: AzureVMConfig) -> list[Block]:
        n = ex.ident
        publisher, offer, sku, version = cfg.image.split(":")
        nic = Block("resource", ("azurerm_network_interface", n)).add(
            Attr("name", self.name(n)), *self._rg(),
            Block("ip_configuration").add(
                Attr("name", "internal"), Attr("subnet_id", ref("var.subnet_id")),
                Attr("private_ip_address_allocation", "Dynamic"),
            ),
        )  # fmt: skip
        vm = Block("resource", ("azurerm_linux_virtual_machine", n)).add(
            Comment(
                "#checkov:skip=CKV_AZURE_50:the Logic App runs each task through Run Command, a VM extension"
            ),
            Attr("name", self.name(n)),
            *self._rg(),
            Attr("size", cfg.vm_size),
            Attr("admin_username", "glacier"),
            Attr("disable_password_authentication", True),
            Attr("network_interface_ids", [ref(f"azurerm_network_interface.{n}.id")]),
            Attr("encryption_at_host_enabled", True),
            Attr("secure_boot_enabled", True),
            Attr("vtpm_enabled", True),
            # the Logic App runs each task through Run Command, a VM extension
            Attr("allow_extension_operations", True),
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

    def databricks_before(self, ex: ExecutorSpec) -> list[Block]:
        return [
            Block("resource", ("azurerm_databricks_access_connector", ex.ident)).add(
                Attr("name", self.name(ex.ident)),
                *self._rg(),
                Block("identity").add(
                    Attr("type", "UserAssigned"),
                    Attr("identity_ids", [ref(f"azurerm_user_assigned_identity.{ex.ident}.id")]),
                ),
                Attr("tags", ref("var.tags")),
            )
        ]

    def databricks_node(self, ex: ExecutorSpec, cluster: Block) -> None:
        cluster.attr("spark_env_vars", deployed_env())

    def extra_files(self) -> dict[str, str]:
        timeout = max((e.config.timeout for e in self.functions()), default=600)
        files = {"src/function_app.py": FUNCTION_APP, "src/host.json": host_json(timeout)}
        if self.vms():
            files[VM_TASK_FILE] = VM_TASK
        return files
