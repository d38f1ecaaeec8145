"""Google Cloud: Cloud Storage, Cloud Functions (2nd gen), Compute Engine, Dataproc,
Databricks; Google Cloud Workflows orchestrates."""

from __future__ import annotations

from typing import Any, ClassVar

from glacier.clouds.gcp.scripts import DATAPROC_INIT, DATAPROC_INIT_FILE, VM_STARTUP, VM_STARTUP_FILE
from glacier.clouds.gcp.workflows import HTTP_LIMIT, VM_METADATA, Workflows, deployed_env
from glacier.config.execution import (
    CloudFunctionConfig,
    ComputeEngineConfig,
    DatabricksConfig,
    DataprocConfig,
)
from glacier.config.storage import GCSConfig
from glacier.terraform.base import output, ref, variable
from glacier.terraform.hcl import Attr, Block, Call, Comment, Raw, template
from glacier.terraform.plan import ARTIFACTS, BucketSpec, ExecutorSpec, Flow

__all__ = ["GcpRenderer"]

ART = "google_storage_bucket.glacier_artifacts.name"
#: The Dataproc clusters' own staging and temporary bucket.
DATAPROC_BUCKET = "glacier-dataproc"


def _object(label: str, kind: str, source: str, comment: str) -> Block:
    """A ``code/`` object built by ``glacier terraform``, named by its content (a change redeploys)."""
    return Block("resource", ("google_storage_bucket_object", label)).add(
        Comment(comment),
        Attr("name", Call("format", f"code/{kind}-%s.zip", Raw(f'filemd5("{source}")'))),
        Attr("bucket", ref(ART)),
        Attr("source", template(source)),
    )


class GcpRenderer(Workflows):
    cloud: ClassVar[str] = "gcp"
    orchestrator: ClassVar[str] = "Google Cloud Workflows (one workflow per pipeline)"
    ordering: ClassVar[str] = (
        "The tasks run in parallel branches cut along the graph's edges; each task starts when its own\n"
        "inputs are ready (it waits for inputs of other branches by a flag); the tasks of one VM run one\n"
        "after another."
    )
    providers: ClassVar[dict[str, tuple[str, str]]] = {
        "archive": ("hashicorp/archive", "~> 2.4"),
        "google": ("hashicorp/google", "~> 6.0"),
    }
    needs_requirements = True
    bucket_output = ("bucket_names", "google_storage_bucket.{}.name", "Data buckets, by Glacier bucket name.")
    function_output = (
        "function_urls",
        "google_cloudfunctions2_function.{}.url",
        "Cloud Functions, by executor name.",
    )
    flow_output = (
        "workflow_ids",
        "google_workflows_workflow.{}.id",
        "Workflows, by pipeline name: execute one to run the pipeline.",
    )

    def local_runs_in(self) -> str:
        return (
            "Tasks bound to provider.local() run in a Cloud Function (2nd gen) generated for their\n"
            "executor (the 'local' runner: 1024 MB, 3600 s), with its own least-privilege service account."
        )

    def variables(self) -> list[Block]:
        cfg = self.plan.provider_config
        project = getattr(cfg, "project_id", None)
        blocks = [
            variable("project_id", "string", "Google Cloud project to deploy to.", project if project else ...),
            variable("region", "string", "Region for buckets, functions, clusters and workflows.",
                     getattr(cfg, "region", None) or "us-central1"),
            variable("subnetwork", "string", "Subnetwork (self link) for instances and clusters.", "default"),
        ]  # fmt: skip
        if self.machines():
            blocks.append(
                variable(
                    "vm_task_timeout_seconds",
                    "number",
                    "How long a workflow waits for a task on a VM or cluster before it fails the run.",
                    21600,
                )
            )
        return blocks

    def machines(self) -> list[ExecutorSpec]:
        """Executors on machines (VMs, Dataproc, Databricks): the workflow polls them."""
        return [e for e in self.plan.executors if e.kind in ("vm", "cluster")]

    def deps_needed(self) -> bool:
        """Whether VMs or Dataproc clusters install the dependency archive."""
        return any(isinstance(e.config, (ComputeEngineConfig, DataprocConfig)) for e in self.plan.executors)

    def extra_outputs(self) -> list[Block]:
        return [
            output(
                "artifacts_bucket",
                ref("google_storage_bucket.glacier_artifacts.name"),
                "Code and task outputs.",
            )
        ]

    def provider(self) -> Block:
        return self.wire_secrets(
            Block("provider", ("google",)).add(
                Attr("project", ref("var.project_id")),
                Attr("region", ref("var.region")),
                Attr("default_labels", ref("var.tags")),
            )
        )

    def foundation(self) -> list[Any]:
        items: list[Any] = [self.archive()]
        artifacts = BucketSpec(ARTIFACTS, "glacier_artifacts", GCSConfig())
        dataproc = self.uses(DataprocConfig)
        extra = [BucketSpec(DATAPROC_BUCKET, "glacier_dataproc", GCSConfig())] if dataproc else []
        for bucket in [artifacts, *extra, *self.plan.buckets]:
            items += self.bucket(bucket, artifacts=bucket is artifacts)
        items.append(
            Block("resource", ("google_storage_bucket_object", "code")).add(
                Comment("src/ zipped: the pipeline modules and glacier_handler.py (VMs and Dataproc)."),
                Attr("name", template("code/code-${data.archive_file.code.output_md5}.zip")),
                Attr("bucket", ref(ART)),
                Attr("source", ref("data.archive_file.code.output_path")),
            )
        )
        if self.functions():
            items.append(
                _object(
                    "source", "source", "${path.module}/build/gcp/source.zip",
                    "The Cloud Functions source `glacier terraform` builds: main.py, the modules,\n"
                    "Glacier vendored and requirements.txt pinned to the exporting environment.",
                )
            )  # fmt: skip
        if self.deps_needed():
            items.append(
                _object(
                    "deps", "deps", "${path.module}/build/gcp/deps.zip",
                    "The pinned dependencies and Glacier, unpacked for the functions' Python on Linux\n"
                    "x86_64: VMs and Dataproc nodes put it first on sys.path (built by `glacier terraform`).",
                )
            )  # fmt: skip
        if dataproc:
            items += [
                Block("resource", ("google_storage_bucket_object", "handler")).add(
                    Attr("name", "code/glacier_handler.py"),
                    Attr("bucket", ref(ART)),
                    Attr("source", template("${path.module}/src/glacier_handler.py")),
                ),
                Block("resource", ("google_storage_bucket_object", "dataproc_init")).add(
                    Attr("name", "code/dataproc_init.sh"),
                    Attr("bucket", ref(ART)),
                    Attr("source", template(f"${{path.module}}/{DATAPROC_INIT_FILE}")),
                ),
            ]
        if self.uses(DatabricksConfig):
            secret = Block("resource", ("google_secret_manager_secret", "databricks_token")).add(
                Attr("secret_id", self.name("databricks-token"))
            )
            secret.block("replication").block("auto")
            items += [
                secret,
                Block("resource", ("google_secret_manager_secret_version", "databricks_token")).add(
                    Attr("secret", ref("google_secret_manager_secret.databricks_token.id")),
                    Attr("secret_data", ref("var.databricks_token")),
                ),
            ]
        return items

    def bucket(self, b: BucketSpec, *, artifacts: bool) -> list[Block]:
        cfg = self.storage(b)
        bucket = Block("resource", ("google_storage_bucket", b.ident))
        if artifacts:
            bucket.add(Comment("#checkov:skip=CKV_GCP_62:this is the access-log bucket of the others"))
        if not cfg.versioning:
            bucket.add(Comment("#checkov:skip=CKV_GCP_78:versioning off as the bucket's GCSConfig asks"))
        if not cfg.uniform_access:
            bucket.add(Comment("#checkov:skip=CKV_GCP_29:fine-grained ACLs as the bucket's GCSConfig asks"))
        bucket.add(
            Attr(
                "name",
                self.name("artifacts")
                if artifacts
                else self.name("dataproc")
                if b.name == DATAPROC_BUCKET
                else b.name,
            ),
            Attr("location", cfg.location or ref("var.region")),
            Attr("storage_class", cfg.storage_class),
            Attr("uniform_bucket_level_access", cfg.uniform_access),
            Attr("public_access_prevention", "enforced"),
            Attr("force_destroy", False),
        )
        bucket.block("versioning").attr("enabled", cfg.versioning)
        if not artifacts:
            bucket.block("logging").attr("log_bucket", ref("google_storage_bucket.glacier_artifacts.name"))
        if cfg.kms_key_name:
            bucket.block("encryption").attr("default_kms_key_name", cfg.kms_key_name)
        if cfg.retention_days:
            bucket.block("retention_policy").attr("retention_period", cfg.retention_days * 86400)
        rule = bucket.block("lifecycle_rule")
        rule.block("condition").add(Attr("num_newer_versions", 3), Attr("with_state", "ARCHIVED"))
        rule.block("action").attr("type", "Delete")
        return [bucket]

    # -- identities --------------------------------------------------------------------
    def identity(self, ex: ExecutorSpec) -> list[Block]:
        sa = Block("resource", ("google_service_account", ex.ident)).add(
            Attr("account_id", self.name(ex.ident)),
            Attr("display_name", f"Glacier executor {ex.name}"),
        )
        out = [sa]
        member = template(f"serviceAccount:${{google_service_account.{ex.ident}.email}}")
        grants: list[tuple[str, str, str, list[str]]] = []
        for b in self.plan.buckets:
            if b.name not in ex.access:
                continue
            reads, writes = ex.access[b.name]
            bucket_ref = f"google_storage_bucket.{b.ident}.name"
            if reads - writes:
                grants.append(
                    (b.ident + "_read", bucket_ref, "roles/storage.objectViewer", sorted(reads - writes))
                )
            if writes:
                grants.append((b.ident + "_write", bucket_ref, "roles/storage.objectUser", sorted(writes)))
        grants.append(
            (
                "artifacts_code",
                "google_storage_bucket.glacier_artifacts.name",
                "roles/storage.objectViewer",
                ["code/"],
            )
        )
        grants.append(
            (
                "artifacts_runs",
                "google_storage_bucket.glacier_artifacts.name",
                "roles/storage.objectUser",
                ["runs/"],
            )
        )
        for key, bucket_ref, role, prefixes in grants:
            name = "${" + bucket_ref + "}"
            binding = Block("resource", ("google_storage_bucket_iam_member", f"{ex.ident}_{key}")).add(
                Attr("bucket", ref(bucket_ref)), Attr("role", role), Attr("member", member)
            )
            if "*" not in prefixes:
                tests = " || ".join(
                    f'resource.name.startsWith("projects/_/buckets/{name}/objects/{p.rstrip("*")}")'
                    for p in prefixes
                )
                binding.block("condition").add(
                    Attr("title", "glacier-prefixes"),
                    Attr(
                        "expression", template(f'resource.type == "storage.googleapis.com/Bucket" || {tests}')
                    ),
                )
            out.append(binding)
        if isinstance(ex.config, DataprocConfig):
            out += self.dataproc_identity(ex, member)
        return out

    def dataproc_identity(self, ex: ExecutorSpec, member: Raw) -> list[Block]:
        """A Dataproc node's service account: the worker role, and its own staging bucket."""
        out = [
            Block("resource", ("google_project_iam_member", f"{ex.ident}_dataproc_worker")).add(
                Attr("project", ref("var.project_id")),
                Attr("role", "roles/dataproc.worker"),
                Attr("member", member),
            )
        ]
        for role in ("roles/storage.objectAdmin", "roles/storage.legacyBucketReader"):
            label = role.rsplit(".", 1)[-1].lower()
            out.append(
                Block("resource", ("google_storage_bucket_iam_member", f"{ex.ident}_dataproc_{label}")).add(
                    Attr("bucket", ref("google_storage_bucket.glacier_dataproc.name")),
                    Attr("role", role),
                    Attr("member", member),
                )
            )
        return out

    # -- compute -----------------------------------------------------------------------
    def function(self, ex: ExecutorSpec, cfg: CloudFunctionConfig) -> list[Block]:
        fn = Block("resource", ("google_cloudfunctions2_function", ex.ident)).add(
            Attr("name", self.name(ex.ident)),
            Attr("location", ref("var.region")),
            Attr("description", f"Glacier executor {ex.name}: {', '.join(ex.tasks)}"[:256]),
        )
        build = fn.block("build_config").add(Attr("runtime", cfg.runtime), Attr("entry_point", "http"))
        build.block("source").block("storage_source").add(
            Attr("bucket", ref(ART)),
            Attr("object", ref("google_storage_bucket_object.source.name")),
        )
        fn.block("service_config").add(
            Attr("available_memory", f"{cfg.memory}M"),
            Attr("timeout_seconds", cfg.timeout),
            Attr("max_instance_count", cfg.max_instances or 10),
            Attr("min_instance_count", cfg.min_instances),
            Attr("service_account_email", ref(f"google_service_account.{ex.ident}.email")),
            Attr("ingress_settings", "ALLOW_INTERNAL_ONLY"),
            Attr("all_traffic_on_latest_revision", True),
            Attr("environment_variables", deployed_env()),
        )
        return [fn]

    def vm_metadata(self, ident: str) -> dict[str, Any]:
        """The metadata of a task VM: hardening, and where the code and dependencies are
        (the workflow adds the start-up script and the task)."""
        return {
            **VM_METADATA,
            "glacier-code": template(f"gs://${{{ART}}}/${{google_storage_bucket_object.code.name}}"),
            "glacier-deps": template(f"gs://${{{ART}}}/${{google_storage_bucket_object.deps.name}}"),
        }

    vm_script = VM_STARTUP_FILE

    def vm(self, ex: ExecutorSpec, cfg: ComputeEngineConfig) -> list[Block]:
        vm = Block("resource", ("google_compute_instance", ex.ident)).add(
            Comment(
                "#checkov:skip=CKV_GCP_38:boot disk uses Google-managed encryption; CSEK keys cannot live in code"
            ),
            Comment(
                "Stopped until a workflow sets its task and starts it; the start-up script runs the task\n"
                "with the pinned dependencies, records its outcome and powers the VM off."
            ),
            Attr("name", self.name(ex.ident)),
            Attr("machine_type", cfg.machine_type),
            Attr("zone", cfg.zone or template("${var.region}-b")),
            Attr("desired_status", "TERMINATED"),
            Attr("metadata", self.vm_metadata(ex.ident)),
            Attr("metadata_startup_script", Raw(f'file("${{path.module}}/{VM_STARTUP_FILE}")')),
        )
        vm.block("boot_disk").block("initialize_params").add(
            Attr("image", cfg.image), Attr("size", cfg.disk_size_gb)
        )
        vm.block("network_interface").attr("subnetwork", ref("var.subnetwork"))
        vm.block("service_account").add(
            Attr("email", ref(f"google_service_account.{ex.ident}.email")),
            Attr("scopes", ["cloud-platform"]),
        )
        vm.block("shielded_instance_config").add(
            Attr("enable_secure_boot", True),
            Attr("enable_vtpm", True),
            Attr("enable_integrity_monitoring", True),
        )
        vm.block("lifecycle").attr("ignore_changes", [Raw("metadata"), Raw("desired_status")])
        return [vm]

    def cluster(self, ex: ExecutorSpec, cfg: DataprocConfig) -> list[Block]:
        cluster = Block("resource", ("google_dataproc_cluster", ex.ident)).add(
            Comment("#checkov:skip=CKV_GCP_91:disks use Google-managed encryption keys"),
            Attr("name", self.name(ex.ident)),
            Attr("region", ref("var.region")),
        )
        cc = cluster.block("cluster_config").add(
            Attr("staging_bucket", ref("google_storage_bucket.glacier_dataproc.name")),
            Attr("temp_bucket", ref("google_storage_bucket.glacier_dataproc.name")),
        )
        gce = cc.block("gce_cluster_config").add(
            Attr("service_account", ref(f"google_service_account.{ex.ident}.email")),
            Attr("service_account_scopes", ["cloud-platform"]),
            Attr("internal_ip_only", True),
            Attr("subnetwork", ref("var.subnetwork")),
            Attr(
                "metadata",
                {"glacier-deps": template(f"gs://${{{ART}}}/${{google_storage_bucket_object.deps.name}}")},
            ),
        )
        gce.block("shielded_instance_config").add(
            Attr("enable_secure_boot", True),
            Attr("enable_vtpm", True),
            Attr("enable_integrity_monitoring", True),
        )
        cc.block("master_config").add(Attr("num_instances", 1), Attr("machine_type", cfg.machine_type))
        cc.block("worker_config").add(
            Attr("num_instances", cfg.num_workers), Attr("machine_type", cfg.machine_type)
        )
        cc.block("software_config").attr("image_version", cfg.image_version)
        cc.block("initialization_action").add(
            Attr("script", template(f"gs://${{{ART}}}/${{google_storage_bucket_object.dataproc_init.name}}")),
            Attr("timeout_sec", 600),
        )
        cluster.attr(
            "depends_on",
            [
                Raw(f"google_project_iam_member.{ex.ident}_dataproc_worker"),
                Raw("google_storage_bucket_object.deps"),
            ],
        )
        return [cluster]

    def databricks_node(self, ex: ExecutorSpec, cluster: Block) -> None:
        cluster.block("gcp_attributes").attr(
            "google_service_account", ref(f"google_service_account.{ex.ident}.email")
        )
        cluster.attr("spark_env_vars", deployed_env())

    def extra_files(self) -> dict[str, str]:
        files = {}
        if any(isinstance(e.config, ComputeEngineConfig) for e in self.plan.executors):
            files[VM_STARTUP_FILE] = VM_STARTUP
        if self.uses(DataprocConfig):
            files[DATAPROC_INIT_FILE] = DATAPROC_INIT
        return files

    # -- orchestrator ------------------------------------------------------------------
    def reads_outcomes(self, flow: Flow) -> bool:
        """Whether the workflow reads outcome records (VM tasks, functions past 1,800 s)."""
        for e in {s.executor for s in flow.steps}:
            cfg = self.plan.executor(e).config
            if isinstance(cfg, ComputeEngineConfig) or (
                isinstance(cfg, CloudFunctionConfig) and cfg.timeout > HTTP_LIMIT
            ):
                return True
        return False

    def flow(self, flow: Flow) -> list[Block]:
        n = flow.ident
        sa = f"{n}_orchestrator"
        out: list[Block] = [
            Block("resource", ("google_service_account", sa)).add(
                Attr("account_id", self.name(n, "wf")),
                Attr("display_name", f"Glacier orchestrator of pipeline {flow.pipeline}"),
            )
        ]
        member = template(f"serviceAccount:${{google_service_account.{sa}.email}}")

        def grant(rtype: str, label: str, role: str, *where: Attr) -> None:
            out.append(
                Block("resource", (rtype, label)).add(*where, Attr("role", role), Attr("member", member))
            )

        for e in sorted({s.executor for s in flow.steps}):
            ex = self.plan.executor(e)
            if ex.kind in ("local", "serverless"):
                grant(
                    "google_cloud_run_service_iam_member", f"{n}_{e}", "roles/run.invoker",
                    Attr("location", ref("var.region")),
                    Attr("service", ref(f"google_cloudfunctions2_function.{e}.name")),
                )  # fmt: skip
            elif isinstance(ex.config, ComputeEngineConfig):
                grant(
                    "google_compute_instance_iam_member", f"{n}_{e}", "roles/compute.instanceAdmin.v1",
                    Attr("zone", ref(f"google_compute_instance.{e}.zone")),
                    Attr("instance_name", ref(f"google_compute_instance.{e}.name")),
                )  # fmt: skip
                grant(  # setting the metadata of a VM that runs as a service account acts as it
                    "google_service_account_iam_member", f"{n}_{e}_act_as", "roles/iam.serviceAccountUser",
                    Attr("service_account_id", ref(f"google_service_account.{e}.name")),
                )  # fmt: skip
        if self.reads_outcomes(flow):  # VMs and long functions record their outcome under runs/
            grant(
                "google_storage_bucket_iam_member", f"{n}_outcomes", "roles/storage.objectViewer",
                Attr("bucket", ref(ART)),
            )  # fmt: skip
            out[-1].block("condition").add(
                Attr("title", "glacier-outcomes"),
                Attr("expression", template(
                    f'resource.name.startsWith("projects/_/buckets/${{{ART}}}/objects/runs/")'
                )),
            )  # fmt: skip
        if self.uses(DatabricksConfig, flow):
            grant(
                "google_secret_manager_secret_iam_member", f"{n}_databricks", "roles/secretmanager.secretAccessor",
                Attr("secret_id", ref("google_secret_manager_secret.databricks_token.id")),
            )  # fmt: skip
        if self.uses(DataprocConfig, flow):
            grant(
                "google_project_iam_member", f"{n}_dataproc", "roles/dataproc.editor",
                Attr("project", ref("var.project_id")),
            )  # fmt: skip
        out.append(
            Block("resource", ("google_workflows_workflow", n)).add(
                Attr("name", self.name(n)),
                Attr("region", ref("var.region")),
                Attr("description", f"Glacier pipeline {flow.pipeline}"),
                Attr("service_account", ref(f"google_service_account.{sa}.id")),
                Attr("call_log_level", "LOG_ERRORS_ONLY"),
                Attr("source_contents", Call("jsonencode", self.definition(flow))),
            )
        )
        return out
