"""Google Cloud: Cloud Storage, Cloud Functions (2nd gen), Compute Engine, Dataproc,
Databricks; Google Cloud Workflows orchestrates."""

from __future__ import annotations

from typing import Any, ClassVar

from glacier.config.execution import (
    CloudFunctionConfig,
    ComputeEngineConfig,
    DatabricksConfig,
    DataprocConfig,
)
from glacier.config.storage import GCSConfig
from glacier.terraform.base import Renderer, output, ref, variable
from glacier.terraform.hcl import Attr, Block, Call, Comment, Raw, template
from glacier.terraform.plan import ARTIFACTS, BucketSpec, ExecutorSpec, Flow, Step

__all__ = ["GcpRenderer"]

RUN_ID = '${sys.get_env("GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID")}'
CODE_URI = template(
    "gs://${google_storage_bucket.glacier_artifacts.name}/${google_storage_bucket_object.code.name}"
)
#: The VM's startup script: fetch the code, run the task named in its metadata, power off.
STARTUP = (
    "mkdir -p /opt/glacier && gsutil cp ${CODE} /tmp/glacier-code.zip && "
    "python3 -m zipfile -e /tmp/glacier-code.zip /opt/glacier && "
    "python3 /opt/glacier/glacier_handler.py $(curl -s -H Metadata-Flavor:Google "
    "http://metadata/computeMetadata/v1/instance/attributes/glacier-task); shutdown -h now"
)
VM_METADATA = {"block-project-ssh-keys": "true", "enable-oslogin": "true", "serial-port-enable": "false"}


def _startup() -> Raw:
    return template(STARTUP.replace("${CODE}", str(CODE_URI)[1:-1]))


class GcpRenderer(Renderer[GCSConfig, CloudFunctionConfig, ComputeEngineConfig, DataprocConfig]):
    cloud: ClassVar[str] = "gcp"
    orchestrator: ClassVar[str] = "Google Cloud Workflows (one workflow per pipeline)"
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
        return [
            variable("project_id", "string", "Google Cloud project to deploy to.", project if project else ...),
            variable("region", "string", "Region for buckets, functions, clusters and workflows.",
                     getattr(cfg, "region", None) or "us-central1"),
            variable("subnetwork", "string", "Subnetwork (self link) for instances and clusters.", "default"),
        ]  # fmt: skip

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
        for bucket in [artifacts, *self.plan.buckets]:
            items += self.bucket(bucket, artifacts=bucket is artifacts)
        items.append(
            Block("resource", ("google_storage_bucket_object", "code")).add(
                Attr("name", template("code/code-${data.archive_file.code.output_md5}.zip")),
                Attr("bucket", ref("google_storage_bucket.glacier_artifacts.name")),
                Attr("source", ref("data.archive_file.code.output_path")),
            )
        )
        if any(e.kind in ("local", "serverless") for e in self.plan.executors):
            source = "${path.module}/build/gcp/source.zip"
            items.append(
                Block("resource", ("google_storage_bucket_object", "source")).add(
                    Comment(
                        "The Cloud Functions source `glacier terraform` builds: main.py, the modules,\n"
                        "Glacier vendored and requirements.txt pinned to the exporting environment."
                    ),
                    Attr("name", Call("format", "code/source-%s.zip", Raw(f'filemd5("{source}")'))),
                    Attr("bucket", ref("google_storage_bucket.glacier_artifacts.name")),
                    Attr("source", template(source)),
                )
            )
        items.append(
            Block("resource", ("google_storage_bucket_object", "handler")).add(
                Attr("name", "code/glacier_handler.py"),
                Attr("bucket", ref("google_storage_bucket.glacier_artifacts.name")),
                Attr("source", template("${path.module}/src/glacier_handler.py")),
            )
        )
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
            Attr("name", self.name("artifacts") if artifacts else b.name),
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
            Attr("bucket", ref("google_storage_bucket.glacier_artifacts.name")),
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
            Attr(
                "environment_variables",
                {"GLACIER_CLOUD": "gcp", "GOOGLE_CLOUD_PROJECT": ref("var.project_id")},
            ),
        )
        return [fn]

    def vm(self, ex: ExecutorSpec, cfg: ComputeEngineConfig) -> list[Block]:
        vm = Block("resource", ("google_compute_instance", ex.ident)).add(
            Comment(
                "#checkov:skip=CKV_GCP_38:boot disk uses Google-managed encryption; CSEK keys cannot live in code"
            ),
            Attr("name", self.name(ex.ident)),
            Attr("machine_type", cfg.machine_type),
            Attr("zone", cfg.zone or template("${var.region}-b")),
            Attr("desired_status", "TERMINATED"),
            Attr("metadata", dict(VM_METADATA)),
            Attr("metadata_startup_script", _startup()),
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
        cc = cluster.block("cluster_config").attr(
            "staging_bucket", ref("google_storage_bucket.glacier_artifacts.name")
        )
        gce = cc.block("gce_cluster_config").add(
            Attr("service_account", ref(f"google_service_account.{ex.ident}.email")),
            Attr("service_account_scopes", ["cloud-platform"]),
            Attr("internal_ip_only", True),
            Attr("subnetwork", ref("var.subnetwork")),
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
        return [cluster]

    def databricks_node(self, ex: ExecutorSpec, cluster: Block) -> None:
        cluster.block("gcp_attributes").attr(
            "google_service_account", ref(f"google_service_account.{ex.ident}.email")
        )

    # -- orchestrator ------------------------------------------------------------------
    def step(self, flow: Flow, step: Step) -> list[dict[str, Any]]:
        ex = self.plan.executor(step.executor)
        staging = template("gs://${google_storage_bucket.glacier_artifacts.name}/runs")
        body = {"pipeline": flow.pipeline, "task": step.node, "run": RUN_ID, "staging": staging}
        name = step.ident
        if ex.kind in ("local", "serverless"):
            call: dict[str, Any] = {
                "call": "http.post",
                "args": {
                    "url": template(f"${{google_cloudfunctions2_function.{ex.ident}.url}}"),
                    "auth": {"type": "OIDC"},
                    "body": body,
                    "timeout": 1800,
                },
            }
        elif isinstance(ex.config, DataprocConfig):
            call = {
                "call": "googleapis.dataproc.v1.projects.regions.jobs.submitAsOperation",
                "args": {
                    "projectId": ref("var.project_id"),
                    "region": ref("var.region"),
                    "body": {
                        "job": {
                            "placement": {"clusterName": ref(f"google_dataproc_cluster.{ex.ident}.name")},
                            "pysparkJob": {
                                "mainPythonFileUri": template(
                                    "gs://${google_storage_bucket.glacier_artifacts.name}/code/glacier_handler.py"
                                ),
                                "pythonFileUris": [CODE_URI],
                                "args": [flow.pipeline, step.node, RUN_ID, staging],
                            },
                        }
                    },
                },
            }
        elif isinstance(ex.config, ComputeEngineConfig):
            inst = f"google_compute_instance.{ex.ident}"
            where = {
                "project": ref("var.project_id"),
                "zone": ref(f"{inst}.zone"),
                "instance": ref(f"{inst}.name"),
            }
            task_arg = (
                f'${{"{flow.pipeline} {step.node} " + sys.get_env("GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID")}}'
            )
            return [
                {
                    f"{name}_get": {
                        "call": "googleapis.compute.v1.instances.get",
                        "args": where,
                        "result": "vm",
                    }
                },
                {
                    f"{name}_assign": {
                        "call": "googleapis.compute.v1.instances.setMetadata",
                        "args": {
                            **where,
                            "body": {
                                "fingerprint": "${vm.metadata.fingerprint}",
                                "items": [
                                    *({"key": k, "value": v} for k, v in VM_METADATA.items()),
                                    {"key": "startup-script", "value": _startup()},
                                    {"key": "glacier-task", "value": task_arg},
                                ],
                            },
                        },
                    }
                },
                {f"{name}_start": {"call": "googleapis.compute.v1.instances.start", "args": where}},
                {f"{name}_wait": {"call": "sys.sleep", "args": {"seconds": 30}}},
                {
                    f"{name}_poll": {
                        "call": "googleapis.compute.v1.instances.get",
                        "args": where,
                        "result": "vm",
                    }
                },
                {
                    f"{name}_check": {
                        "switch": [{"condition": '${vm.status != "TERMINATED"}', "next": f"{name}_wait"}]
                    }
                },
            ]
        else:  # Databricks Jobs API; the token is read from Secret Manager at run time
            auth = {"Authorization": '${"Bearer " + token}'}
            api = "${var.databricks_host}/api/2.1/jobs"
            return [
                {
                    f"{name}_token": {
                        "call": "googleapis.secretmanager.v1.projects.secrets.versions.accessString",
                        "args": {"secret_id": ref("google_secret_manager_secret.databricks_token.secret_id")},
                        "result": "token",
                    }
                },
                {
                    f"{name}_submit": {
                        "call": "http.post",
                        "args": {
                            "url": template(f"{api}/run-now"),
                            "headers": auth,
                            "body": {
                                "job_id": ref(f"tonumber(databricks_job.{ex.ident}.id)"),
                                "job_parameters": body,
                            },
                        },
                        "result": "submitted",
                    }
                },
                {f"{name}_wait": {"call": "sys.sleep", "args": {"seconds": 30}}},
                {
                    f"{name}_poll": {
                        "call": "http.get",
                        "args": {
                            "url": template(f"{api}/runs/get"),
                            "headers": auth,
                            "query": {"run_id": "${submitted.body.run_id}"},
                        },
                        "result": "polled",
                    }
                },
                {
                    f"{name}_check": {
                        "switch": [
                            {
                                "condition": '${polled.body.state.life_cycle_state != "TERMINATED"}',
                                "next": f"{name}_wait",
                            },
                            {
                                "condition": '${polled.body.state.result_state != "SUCCESS"}',
                                "raise": f"task {step.node} failed on Databricks",
                            },
                        ]
                    }
                },
            ]
        if step.retries:
            return [
                {
                    name: {
                        "try": {"steps": [{f"{name}_call": call}]},
                        "retry": {"predicate": "${http.default_retry_predicate}", "max_retries": step.retries,
                                  "backoff": {"initial_delay": 2, "max_delay": 60, "multiplier": 2}},
                    }
                }
            ]  # fmt: skip
        return [{name: call}]

    def definition(self, flow: Flow) -> dict[str, Any]:
        steps: list[dict[str, Any]] = []
        for i, level in enumerate(flow.levels()):
            if len(level) == 1:
                steps += self.step(flow, level[0])
            else:
                branches = [{s.ident: {"steps": self.step(flow, s)}} for s in level]
                steps.append({f"level_{i + 1}": {"parallel": {"branches": branches}}})
        return {"main": {"steps": steps}}

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
