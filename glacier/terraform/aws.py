"""AWS: S3, Lambda, EC2, EMR, Databricks; AWS Step Functions orchestrates."""

from __future__ import annotations

from typing import Any, ClassVar

from glacier.config.execution import DatabricksConfig, EC2Config, EMRConfig, LambdaConfig
from glacier.config.storage import S3Config
from glacier.terraform.base import Renderer, output, ref, variable
from glacier.terraform.databricks import databricks_files as _databricks_common
from glacier.terraform.databricks import databricks_job as _databricks_job
from glacier.terraform.hcl import Attr, Block, Call, Comment, Raw, template
from glacier.terraform.plan import ARTIFACTS, WIRED, BucketSpec, ExecutorSpec, Flow, Step

__all__ = ["AwsRenderer"]

KMS_ADMIN = [
    "kms:CancelKeyDeletion", "kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:DisableKey",
    "kms:EnableKey", "kms:EnableKeyRotation", "kms:Encrypt", "kms:GenerateDataKey", "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus", "kms:ListGrants", "kms:ListResourceTags", "kms:PutKeyPolicy",
    "kms:RevokeGrant", "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource",
    "kms:UpdateKeyDescription",
]  # fmt: skip
KMS_USE = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]
MANAGED = "arn:${data.aws_partition.current.partition}:iam::aws:policy/"


def _statement(sid: str, actions: list[str], resources: list[Any], **extra: Any) -> Block:
    st = Block("statement").add(Attr("sid", sid), Attr("effect", "Allow"), Attr("actions", sorted(actions)))
    st.attr("resources", resources)
    for name, value in extra.items():
        st.add(value) if isinstance(value, Block) else st.attr(name, value)
    return st


def _principal(type_: str, ids: list[Any]) -> Block:
    return Block("principals").add(Attr("type", type_), Attr("identifiers", ids))


class AwsRenderer(Renderer):
    cloud: ClassVar[str] = "aws"
    orchestrator: ClassVar[str] = "AWS Step Functions (one state machine per pipeline)"
    providers: ClassVar[dict[str, tuple[str, str]]] = {
        "archive": ("hashicorp/archive", "~> 2.4"),
        "aws": ("hashicorp/aws", "~> 5.0"),
    }

    def local_runs_in(self) -> str:
        return (
            "Tasks bound to provider.local() run in a Lambda function generated for their executor\n"
            "(the 'local' runner: 1024 MB, 900 s), with the same least-privilege role as any function."
        )

    # -- variables and outputs ---------------------------------------------------------
    def variables(self) -> list[Block]:
        cfg = self.plan.provider_config
        region = getattr(cfg, "region", None) or "us-east-1"
        blocks = [
            variable("region", "string", "AWS region to deploy to.", region),
            variable("subnet_ids", "list(string)", "Private subnets for functions, instances and clusters."),
            variable("security_group_ids", "list(string)", "Security groups for functions and instances."),
            variable("log_retention_days", "number", "Days to keep logs.", 365),
            variable(
                "lambda_layer_arns", "list(string)", "Layers providing glacier and polars to functions.", []
            ),
            variable("function_concurrency", "number", "Reserved concurrency of each function.", 10),
        ]
        if self._has_emr:
            blocks += [
                variable("vpc_id", "string", "VPC of the subnets (EMR security groups are created in it)."),
                variable(
                    "emr_tls_certificates_zip", "string", "S3 URI of the PEM zip EMR uses for in-transit TLS."
                ),
            ]
        return blocks

    def outputs(self) -> list[Block]:
        out = [
            output(
                "bucket_names",
                {b.name: ref(f"aws_s3_bucket.{b.ident}.bucket") for b in self.plan.buckets},
                "Data buckets, by Glacier bucket name.",
            ),
            output(
                "artifacts_bucket", ref("aws_s3_bucket.glacier_artifacts.bucket"), "Code and task outputs."
            ),
        ]
        functions = [e for e in self.plan.executors if e.kind in ("local", "serverless")]
        if functions:
            out.append(
                output(
                    "function_arns",
                    {e.name: ref(f"aws_lambda_function.{e.ident}.arn") for e in functions},
                    "Lambda functions, by executor name.",
                )
            )
        out.append(
            output(
                "state_machine_arns",
                {f.pipeline: ref(f"aws_sfn_state_machine.{f.ident}.arn") for f in self.plan.flows},
                "Step Functions state machines, by pipeline name: start an execution to run it.",
            )
        )
        return out

    # -- main --------------------------------------------------------------------------
    def main(self) -> list[Any]:
        plan = self.plan
        provider = Block("provider", ("aws",)).add(Attr("region", ref("var.region")))
        for secret in plan.secrets:
            if secret.name.startswith("aws_"):
                provider.attr(WIRED["aws"][secret.name.removeprefix("aws_")], ref(f"var.{secret.name}"))
        provider.block("default_tags").attr("tags", ref("var.tags"))
        items: list[Any] = [provider]
        if any(isinstance(e.config, DatabricksConfig) for e in plan.executors):
            items.append(
                Block("provider", ("databricks",)).add(
                    Attr("host", ref("var.databricks_host")), Attr("token", ref("var.databricks_token"))
                )
            )
        items += [
            Block("data", ("aws_caller_identity", "current")),
            Block("data", ("aws_partition", "current")),
            *self.kms(),
            *self.archive(),
        ]
        artifacts = BucketSpec(ARTIFACTS, "glacier_artifacts", S3Config())
        for bucket in [*plan.buckets, artifacts]:
            items += self.bucket(bucket, artifacts=bucket is artifacts)
        items += self.code_objects()
        for ex in plan.executors:
            items += self.identity(ex)
            items += self.compute(ex)
        for flow in plan.flows:
            items += self.state_machine(flow)
        return items

    def kms(self) -> list[Block]:
        key = Block("resource", ("aws_kms_key", "glacier")).add(
            Attr("description", template("Glacier ${var.name_prefix}: logs and queues")),
            Attr("enable_key_rotation", True),
            Attr("deletion_window_in_days", 30),
        )
        account = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
        logs = "logs.${var.region}.amazonaws.com"
        doc = Block("data", ("aws_iam_policy_document", "kms")).add(
            _statement(
                "AccountAdministers", KMS_ADMIN, [ref("aws_kms_key.glacier.arn")],
                principals=_principal("AWS", [template(account)]),
            ),
            _statement(
                "LogsEncrypt", KMS_USE, [ref("aws_kms_key.glacier.arn")],
                principals=_principal("Service", [template(logs)]),
            ),
        )  # fmt: skip
        policy = Block("resource", ("aws_kms_key_policy", "glacier")).add(
            Attr("key_id", ref("aws_kms_key.glacier.id")),
            Attr("policy", ref("data.aws_iam_policy_document.kms.json")),
        )
        return [key, doc, policy]

    def archive(self) -> list[Block]:
        return [
            Block("data", ("archive_file", "code")).add(
                Attr("type", "zip"),
                Attr("source_dir", template("${path.module}/src")),
                Attr("output_path", template("${path.module}/build/code.zip")),
            )
        ]

    def bucket(self, b: BucketSpec, *, artifacts: bool) -> list[Block]:
        cfg = b.config
        assert isinstance(cfg, S3Config)
        r = f"aws_s3_bucket.{b.ident}"
        name = template("${var.name_prefix}-artifacts") if artifacts else b.name
        bucket = Block("resource", ("aws_s3_bucket", b.ident)).add(
            Comment("#checkov:skip=CKV_AWS_18:access logs go to the organisation's central log bucket"),
            Comment(
                "#checkov:skip=CKV_AWS_144:cross-region replication is a per-account disaster-recovery choice"
            ),
        )
        if cfg.encryption == "AES256":
            bucket.add(Comment("#checkov:skip=CKV_AWS_145:SSE-S3 (AES256) as the bucket's S3Config asks"))
        if not cfg.versioning:
            bucket.add(Comment("#checkov:skip=CKV_AWS_21:versioning off as the bucket's S3Config asks"))
        bucket.attr("bucket", name)
        sse = Block("apply_server_side_encryption_by_default").add(Attr("sse_algorithm", cfg.encryption))
        if cfg.encryption == "aws:kms":
            sse.attr("kms_master_key_id", cfg.kms_key_id or ref("aws_kms_key.glacier.arn"))
        rule = Block("rule").add(sse, Attr("bucket_key_enabled", cfg.encryption == "aws:kms"))
        lifecycle = Block("rule").add(
            Attr("id", "glacier"), Attr("status", "Enabled"), Block("filter"),
            Block("abort_incomplete_multipart_upload").add(Attr("days_after_initiation", 7)),
        )  # fmt: skip
        if cfg.versioning:
            lifecycle.block("noncurrent_version_expiration").attr("noncurrent_days", 90)
        if cfg.transition_days:
            target = cfg.storage_class if cfg.storage_class != "STANDARD" else "STANDARD_IA"
            lifecycle.block("transition").add(
                Attr("days", cfg.transition_days), Attr("storage_class", target)
            )
        if cfg.expiration_days:
            lifecycle.block("expiration").attr("days", cfg.expiration_days)
        return [
            bucket,
            Block("resource", ("aws_s3_bucket_versioning", b.ident)).add(
                Attr("bucket", ref(f"{r}.id")),
                Block("versioning_configuration").add(
                    Attr("status", "Enabled" if cfg.versioning else "Suspended")
                ),
            ),
            Block("resource", ("aws_s3_bucket_server_side_encryption_configuration", b.ident)).add(
                Attr("bucket", ref(f"{r}.id")), rule
            ),
            Block("resource", ("aws_s3_bucket_public_access_block", b.ident)).add(
                Attr("bucket", ref(f"{r}.id")),
                Attr("block_public_acls", True),
                Attr("block_public_policy", True),
                Attr("ignore_public_acls", True),
                Attr("restrict_public_buckets", True),
            ),
            Block("resource", ("aws_s3_bucket_ownership_controls", b.ident)).add(
                Attr("bucket", ref(f"{r}.id")),
                Block("rule").add(Attr("object_ownership", "BucketOwnerEnforced")),
            ),
            Block("resource", ("aws_s3_bucket_lifecycle_configuration", b.ident)).add(
                Attr("bucket", ref(f"{r}.id")), lifecycle
            ),
            Block("resource", ("aws_s3_bucket_notification", b.ident)).add(
                Attr("bucket", ref(f"{r}.id")), Attr("eventbridge", True)
            ),
        ]

    def code_objects(self) -> list[Block]:
        return [
            Block("resource", ("aws_s3_object", "code")).add(
                Attr("bucket", ref("aws_s3_bucket.glacier_artifacts.id")),
                Attr("key", "code/code.zip"),
                Attr("source", ref("data.archive_file.code.output_path")),
                Attr("source_hash", ref("data.archive_file.code.output_base64sha256")),
            ),
            Block("resource", ("aws_s3_object", "handler")).add(
                Attr("bucket", ref("aws_s3_bucket.glacier_artifacts.id")),
                Attr("key", "code/glacier_handler.py"),
                Attr("source", template("${path.module}/src/glacier_handler.py")),
                Attr("source_hash", Raw('filemd5("${path.module}/src/glacier_handler.py")')),
            ),
        ]

    # -- identities --------------------------------------------------------------------
    def data_statements(self, ex: ExecutorSpec) -> list[Block]:
        out = []
        for bucket in self.plan.buckets:
            if bucket.name not in ex.access:
                continue
            reads, writes = ex.access[bucket.name]
            arn = f"aws_s3_bucket.{bucket.ident}.arn"
            sid = "".join(p.capitalize() for p in bucket.ident.split("_"))
            out.append(
                _statement(
                    f"List{sid}", ["s3:ListBucket"], [ref(arn)],
                    condition=Block("condition").add(
                        Attr("test", "StringLike"), Attr("variable", "s3:prefix"),
                        Attr("values", sorted(reads | writes)),
                    ),
                )
            )  # fmt: skip
            objects = [template(f"${{{arn}}}/{k}") for k in sorted(reads | writes)]
            out.append(_statement(f"Read{sid}", ["s3:GetObject", "s3:GetObjectVersion"], objects))
            if writes:
                objects = [template(f"${{{arn}}}/{k}") for k in sorted(writes)]
                out.append(
                    _statement(
                        f"Write{sid}", ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:PutObject"], objects
                    )
                )
        art = "aws_s3_bucket.glacier_artifacts.arn"
        out.append(_statement("ReadCode", ["s3:GetObject"], [template(f"${{{art}}}/code/*")]))
        out.append(
            _statement("TaskOutputs", ["s3:GetObject", "s3:PutObject"], [template(f"${{{art}}}/runs/*")])
        )
        if self._has_emr:
            out.append(
                _statement(
                    "UseGlacierKey", ["kms:Decrypt", "kms:GenerateDataKey"], [ref("aws_kms_key.glacier.arn")]
                )
            )
        return out

    @property
    def _has_emr(self) -> bool:
        return any(isinstance(e.config, EMRConfig) for e in self.plan.executors)

    def identity(self, ex: ExecutorSpec) -> list[Block]:
        service = {"local": "lambda", "serverless": "lambda", "vm": "ec2", "cluster": "ec2"}[ex.kind]
        assume = Block("data", ("aws_iam_policy_document", f"{ex.ident}_assume")).add(
            Block("statement").add(
                Attr("actions", ["sts:AssumeRole"]),
                _principal("Service", [f"{service}.amazonaws.com"]),
            )
        )
        statements = self.data_statements(ex)
        if service == "lambda":
            statements.append(
                _statement(
                    "Logs", ["logs:CreateLogStream", "logs:PutLogEvents"],
                    [template(f"${{aws_cloudwatch_log_group.{ex.ident}.arn}}:*")],
                )
            )  # fmt: skip
            statements.append(
                _statement("DeadLetters", ["sqs:SendMessage"], [ref(f"aws_sqs_queue.{ex.ident}_dlq.arn")])
            )
        policy = Block("data", ("aws_iam_policy_document", ex.ident)).add(*statements)
        role = Block("resource", ("aws_iam_role", ex.ident)).add(
            Attr("name", template(f"${{var.name_prefix}}-{ex.ident.replace('_', '-')}")),
            Attr("assume_role_policy", ref(f"data.aws_iam_policy_document.{ex.ident}_assume.json")),
        )
        inline = Block("resource", ("aws_iam_role_policy", ex.ident)).add(
            Attr("name", "glacier-data-access"),
            Attr("role", ref(f"aws_iam_role.{ex.ident}.id")),
            Attr("policy", ref(f"data.aws_iam_policy_document.{ex.ident}.json")),
        )
        out = [assume, policy, role, inline]
        managed = {
            "lambda": ["AWSXRayDaemonWriteAccess", "service-role/AWSLambdaVPCAccessExecutionRole"],
            "ec2": ["AmazonSSMManagedInstanceCore"],
        }[service]
        if isinstance(ex.config, EMRConfig):
            managed = ["service-role/AmazonElasticMapReduceforEC2Role"][:0]
        for i, arn in enumerate(managed):
            out.append(
                Block("resource", ("aws_iam_role_policy_attachment", f"{ex.ident}_{i}")).add(
                    Attr("role", ref(f"aws_iam_role.{ex.ident}.name")),
                    Attr("policy_arn", template(MANAGED + arn)),
                )
            )
        if service == "ec2":
            out.append(
                Block("resource", ("aws_iam_instance_profile", ex.ident)).add(
                    Attr("name", template(f"${{var.name_prefix}}-{ex.ident.replace('_', '-')}")),
                    Attr("role", ref(f"aws_iam_role.{ex.ident}.name")),
                )
            )
        return out

    # -- compute -----------------------------------------------------------------------
    def compute(self, ex: ExecutorSpec) -> list[Block]:
        if ex.kind in ("local", "serverless"):
            return self.function(ex)
        if isinstance(ex.config, EC2Config):
            return self.instance(ex)
        if isinstance(ex.config, EMRConfig):
            return self.emr(ex)
        return self.databricks(ex)

    def function(self, ex: ExecutorSpec) -> list[Block]:
        cfg = ex.config
        assert isinstance(cfg, LambdaConfig)
        name = template(f"${{var.name_prefix}}-{ex.ident.replace('_', '-')}")
        concurrency = (
            cfg.reserved_concurrency
            if cfg.reserved_concurrency is not None
            else ref("var.function_concurrency")
        )
        fn = Block("resource", ("aws_lambda_function", ex.ident)).add(
            Attr("function_name", name),
            Attr("description", f"Glacier executor {ex.name}: {', '.join(ex.tasks)}"[:256]),
            Attr("role", ref(f"aws_iam_role.{ex.ident}.arn")),
            Attr("handler", "glacier_handler.handler"),
            Attr("runtime", cfg.runtime),
            Attr("architectures", [cfg.architecture]),
            Attr("memory_size", cfg.memory),
            Attr("timeout", cfg.timeout),
            Attr("filename", ref("data.archive_file.code.output_path")),
            Attr("source_code_hash", ref("data.archive_file.code.output_base64sha256")),
            Attr("layers", ref("var.lambda_layer_arns")),
            Attr("reserved_concurrent_executions", concurrency),
            Attr("code_signing_config_arn", ref("aws_lambda_code_signing_config.glacier.arn")),
        )
        fn.block("ephemeral_storage").attr("size", cfg.ephemeral_storage)
        fn.block("tracing_config").attr("mode", "Active")
        fn.block("dead_letter_config").attr("target_arn", ref(f"aws_sqs_queue.{ex.ident}_dlq.arn"))
        fn.block("vpc_config").add(
            Attr("subnet_ids", ref("var.subnet_ids")),
            Attr("security_group_ids", ref("var.security_group_ids")),
        )
        fn.block("logging_config").add(
            Attr("log_format", "JSON"), Attr("log_group", ref(f"aws_cloudwatch_log_group.{ex.ident}.name"))
        )
        fn.attr("depends_on", [ref(f"aws_iam_role_policy.{ex.ident}")])
        out = [
            Block("resource", ("aws_cloudwatch_log_group", ex.ident)).add(
                Attr("name", template(f"/aws/lambda/${{var.name_prefix}}-{ex.ident.replace('_', '-')}")),
                Attr("retention_in_days", ref("var.log_retention_days")),
                Attr("kms_key_id", ref("aws_kms_key.glacier.arn")),
            ),
            Block("resource", ("aws_sqs_queue", f"{ex.ident}_dlq")).add(
                Attr("name", template(f"${{var.name_prefix}}-{ex.ident.replace('_', '-')}-dlq")),
                Attr("sqs_managed_sse_enabled", True),
                Attr("message_retention_seconds", 1209600),
            ),
            fn,
        ]
        if not self._signing_done:
            self._signing_done = True
            out[:0] = [
                Block("resource", ("aws_signer_signing_profile", "glacier")).add(
                    Attr("platform_id", "AWSLambda-SHA384-ECDSA"),
                    Attr("name_prefix", "glacier"),
                ),
                Block("resource", ("aws_lambda_code_signing_config", "glacier")).add(
                    Attr("description", "Glacier functions: signed packages preferred"),
                    Block("allowed_publishers").attr(
                        "signing_profile_version_arns",
                        [ref("aws_signer_signing_profile.glacier.version_arn")],
                    ),
                    Block("policies").attr("untrusted_artifact_on_deployment", "Warn"),
                ),
            ]
        return out

    _signing_done = False

    def instance(self, ex: ExecutorSpec) -> list[Block]:
        cfg = ex.config
        assert isinstance(cfg, EC2Config)
        items: list[Any] = []
        ami: Any = cfg.ami
        if ami is None:
            items.append(
                Block("data", ("aws_ssm_parameter", f"{ex.ident}_ami")).add(
                    Attr("name", "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")
                )
            )
            ami = ref(f"data.aws_ssm_parameter.{ex.ident}_ami.value")
        inst = Block("resource", ("aws_instance", ex.ident)).add(
            Attr("ami", ami),
            Attr("instance_type", cfg.instance_type),
            Attr("subnet_id", cfg.subnet_id or ref("var.subnet_ids[0]")),
            Attr("vpc_security_group_ids", ref("var.security_group_ids")),
            Attr("iam_instance_profile", ref(f"aws_iam_instance_profile.{ex.ident}.name")),
            Attr("associate_public_ip_address", False),
            Attr("monitoring", True),
            Attr("ebs_optimized", True),
        )
        inst.block("metadata_options").add(Attr("http_endpoint", "enabled"), Attr("http_tokens", "required"))
        inst.block("root_block_device").add(
            Attr("encrypted", True), Attr("volume_size", cfg.disk_size_gb), Attr("volume_type", "gp3")
        )
        return [*items, inst]

    def emr(self, ex: ExecutorSpec) -> list[Block]:
        cfg = ex.config
        assert isinstance(cfg, EMRConfig)
        n = ex.ident
        service_assume = Block("data", ("aws_iam_policy_document", f"{n}_service_assume")).add(
            Block("statement").add(
                Attr("actions", ["sts:AssumeRole"]), _principal("Service", ["elasticmapreduce.amazonaws.com"])
            )
        )
        service_role = Block("resource", ("aws_iam_role", f"{n}_service")).add(
            Attr("name", template(f"${{var.name_prefix}}-{n.replace('_', '-')}-service")),
            Attr("assume_role_policy", ref(f"data.aws_iam_policy_document.{n}_service_assume.json")),
        )
        service_policy = Block("resource", ("aws_iam_role_policy_attachment", f"{n}_service")).add(
            Attr("role", ref(f"aws_iam_role.{n}_service.name")),
            Attr("policy_arn", template(MANAGED + "service-role/AmazonEMRServicePolicy_v2")),
        )
        security = {
            "EncryptionConfiguration": {
                "EnableInTransitEncryption": True,
                "EnableAtRestEncryption": True,
                "InTransitEncryptionConfiguration": {
                    "TLSCertificateConfiguration": {
                        "CertificateProviderType": "PEM",
                        "S3Object": "${var.emr_tls_certificates_zip}",
                    }
                },
                "AtRestEncryptionConfiguration": {
                    "S3EncryptionConfiguration": {
                        "EncryptionMode": "SSE-KMS",
                        "AwsKmsKey": "${aws_kms_key.glacier.arn}",
                    },
                    "LocalDiskEncryptionConfiguration": {
                        "EncryptionKeyProviderType": "AwsKms",
                        "AwsKmsKey": "${aws_kms_key.glacier.arn}",
                        "EnableEbsEncryption": True,
                    },
                },
            }
        }
        sec = Block("resource", ("aws_emr_security_configuration", n)).add(
            Attr("name", template(f"${{var.name_prefix}}-{n.replace('_', '-')}")),
            Attr("configuration", Call("jsonencode", _tf_json(security))),
        )
        cluster = Block("resource", ("aws_emr_cluster", n)).add(
            Attr("name", template(f"${{var.name_prefix}}-{n.replace('_', '-')}")),
            Attr("release_label", cfg.release_label),
            Attr("applications", list(cfg.applications)),
            Attr("service_role", ref(f"aws_iam_role.{n}_service.arn")),
            Attr("security_configuration", ref(f"aws_emr_security_configuration.{n}.name")),
            Attr("log_uri", template("s3://${aws_s3_bucket.glacier_artifacts.bucket}/emr-logs/")),
            Attr("keep_job_flow_alive_when_no_steps", True),
            Attr("termination_protection", False),
        )
        cluster.block("ec2_attributes").add(
            Attr("subnet_id", ref("var.subnet_ids[0]")),
            Attr("instance_profile", ref(f"aws_iam_instance_profile.{n}.arn")),
            Attr("emr_managed_master_security_group", ref(f"aws_security_group.{n}_master.id")),
            Attr("emr_managed_slave_security_group", ref(f"aws_security_group.{n}_core.id")),
        )
        groups = [
            Block("resource", ("aws_security_group", f"{n}_{role}")).add(
                Attr("name", template(f"${{var.name_prefix}}-{n.replace('_', '-')}-{role}")),
                Attr("description", f"EMR {role} nodes of executor {ex.name}; EMR manages the rules"),
                Attr("vpc_id", ref("var.vpc_id")),
                Attr("revoke_rules_on_delete", True),
            )
            for role in ("master", "core")
        ]
        cluster.block("master_instance_group").attr("instance_type", cfg.instance_type)
        cluster.block("core_instance_group").add(
            Attr("instance_type", cfg.instance_type), Attr("instance_count", cfg.num_workers)
        )
        return [service_assume, service_role, service_policy, sec, *groups, cluster]

    def databricks(self, ex: ExecutorSpec) -> list[Block]:
        cfg = ex.config
        assert isinstance(cfg, DatabricksConfig)
        n = ex.ident
        items: list[Any] = [
            Block("resource", ("databricks_instance_profile", n)).add(
                Attr("instance_profile_arn", ref(f"aws_iam_instance_profile.{n}.arn"))
            ),
            *_databricks_common(ex, list(self.plan.modules)),
        ]
        job = _databricks_job(ex)
        if cfg.cluster_id is None:
            jc = job.block("job_cluster").attr("job_cluster_key", "glacier")
            nc = jc.block("new_cluster").add(
                Attr("spark_version", cfg.spark_version),
                Attr("node_type_id", cfg.instance_type or ref(f"data.databricks_node_type.{n}.id")),
                Attr("num_workers", cfg.num_workers),
            )
            nc.block("aws_attributes").attr(
                "instance_profile_arn", ref(f"databricks_instance_profile.{n}.instance_profile_arn")
            )
            if cfg.instance_type is None:
                items.append(Block("data", ("databricks_node_type", n)).attr("local_disk", True))
        items.append(job)
        items.append(
            Block("resource", ("aws_cloudwatch_event_connection", n)).add(
                Attr("name", template(f"${{var.name_prefix}}-{n.replace('_', '-')}")),
                Attr("authorization_type", "API_KEY"),
                Block("auth_parameters").add(
                    Block("api_key").add(
                        Attr("key", "Authorization"),
                        Attr("value", template("Bearer ${var.databricks_token}")),
                    )
                ),
            )
        )
        return items

    # -- orchestrator ------------------------------------------------------------------
    def step_states(self, flow: Flow, step: Step) -> tuple[str, dict[str, Any], str]:
        """States of one step: (first state name, states, last state name)."""
        ex = self.plan.executor(step.executor)
        payload = {
            "pipeline": flow.pipeline,
            "task": step.node,
            "run.$": "$$.Execution.Name",
            "staging": "s3://${aws_s3_bucket.glacier_artifacts.bucket}/runs",
        }
        retry = (
            [
                {
                    "ErrorEquals": ["States.TaskFailed"],
                    "MaxAttempts": step.retries,
                    "IntervalSeconds": 2,
                    "BackoffRate": 2,
                }
            ]
            if step.retries
            else []
        )
        name = step.ident
        if ex.kind in ("local", "serverless"):
            state: dict[str, Any] = {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {
                    "FunctionName": f"${{aws_lambda_function.{ex.ident}.arn}}",
                    "Payload": payload,
                },
                "ResultPath": None,
            }
            if retry:
                state["Retry"] = retry
            return name, {name: state}, name
        args = [flow.pipeline, step.node]
        if isinstance(ex.config, EMRConfig):
            state = {
                "Type": "Task",
                "Resource": "arn:aws:states:::elasticmapreduce:addStep.sync",
                "Parameters": {
                    "ClusterId": f"${{aws_emr_cluster.{ex.ident}.id}}",
                    "Step": {
                        "Name": f"{flow.pipeline}.{step.node}",
                        "ActionOnFailure": "CONTINUE",
                        "HadoopJarStep": {
                            "Jar": "command-runner.jar",
                            "Args.$": (
                                "States.Array('spark-submit', '--py-files', "
                                "'s3://${aws_s3_bucket.glacier_artifacts.bucket}/code/code.zip', "
                                "'s3://${aws_s3_bucket.glacier_artifacts.bucket}/code/glacier_handler.py', "
                                f"'{args[0]}', '{args[1]}', $$.Execution.Name, "
                                "'s3://${aws_s3_bucket.glacier_artifacts.bucket}/runs')"
                            ),
                        },
                    },
                },
                "ResultPath": None,
            }
            if retry:
                state["Retry"] = retry
            return name, {name: state}, name
        if isinstance(ex.config, EC2Config):
            submit = {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:ssm:sendCommand",
                "Parameters": {
                    "DocumentName": "AWS-RunShellScript",
                    "InstanceIds": [f"${{aws_instance.{ex.ident}.id}}"],
                    "Parameters": {
                        "commands.$": (
                            "States.Array(States.Format('mkdir -p /opt/glacier && "
                            "aws s3 cp s3://${aws_s3_bucket.glacier_artifacts.bucket}/code/code.zip /tmp/glacier-code.zip && "
                            "python3 -m zipfile -e /tmp/glacier-code.zip /opt/glacier && "
                            "python3 /opt/glacier/glacier_handler.py "
                            f"{args[0]} {args[1]} {{}} s3://${{aws_s3_bucket.glacier_artifacts.bucket}}/runs', "
                            "$$.Execution.Name))"
                        )
                    },
                },
                "ResultSelector": {"id.$": "$.Command.CommandId"},
                "ResultPath": f"$.{name}",
            }
            poll = {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:ssm:getCommandInvocation",
                "Parameters": {
                    "CommandId.$": f"$.{name}.id",
                    "InstanceId": f"${{aws_instance.{ex.ident}.id}}",
                },
                "ResultSelector": {"id.$": "$.CommandId", "status.$": "$.Status"},
                "ResultPath": f"$.{name}",
                "Retry": [
                    {
                        "ErrorEquals": ["Ssm.InvocationDoesNotExistException"],
                        "IntervalSeconds": 5,
                        "MaxAttempts": 6,
                    }
                ],
            }
            done, failed = ("Success",), ("Cancelled", "TimedOut", "Failed", "Cancelling")
            path = f"$.{name}.status"
        else:  # Databricks through its Jobs API
            endpoint = "${var.databricks_host}/api/2.1/jobs"
            conn = f"${{aws_cloudwatch_event_connection.{ex.ident}.arn}}"
            submit = {
                "Type": "Task",
                "Resource": "arn:aws:states:::http:invoke",
                "Parameters": {
                    "ApiEndpoint": f"{endpoint}/run-now",
                    "Method": "POST",
                    "Authentication": {"ConnectionArn": conn},
                    "RequestBody": {
                        "job_id": Raw(f"tonumber(databricks_job.{ex.ident}.id)"),
                        "job_parameters": {
                            "pipeline": flow.pipeline,
                            "task": step.node,
                            "run.$": "$$.Execution.Name",
                            "staging": "s3://${aws_s3_bucket.glacier_artifacts.bucket}/runs",
                        },
                    },
                },
                "ResultSelector": {"id.$": "$.ResponseBody.run_id"},
                "ResultPath": f"$.{name}",
            }
            poll = {
                "Type": "Task",
                "Resource": "arn:aws:states:::http:invoke",
                "Parameters": {
                    "ApiEndpoint": f"{endpoint}/runs/get",
                    "Method": "GET",
                    "Authentication": {"ConnectionArn": conn},
                    "QueryParameters": {"run_id.$": f"States.Format('{{}}', $.{name}.id)"},
                },
                "ResultSelector": {"id.$": "$.ResponseBody.run_id", "state.$": "$.ResponseBody.state"},
                "ResultPath": f"$.{name}",
            }
            done, failed = (), ("TERMINATED", "SKIPPED", "INTERNAL_ERROR")
            path = f"$.{name}.state.life_cycle_state"
        if retry:
            submit["Retry"] = retry
        submit["Next"] = f"{name}_wait"
        poll["Next"] = f"{name}_check"
        choices: list[dict[str, Any]] = [
            {"Variable": path, "StringEquals": s, "Next": f"{name}_done"} for s in done
        ]
        if not done:  # Databricks: done when TERMINATED with result_state SUCCESS
            choices.append(
                {
                    "And": [
                        {"Variable": path, "StringEquals": "TERMINATED"},
                        {"Variable": f"$.{name}.state.result_state", "StringEquals": "SUCCESS"},
                    ],
                    "Next": f"{name}_done",
                }
            )
        choices += [{"Variable": path, "StringEquals": s, "Next": f"{name}_failed"} for s in failed]
        states = {
            name: submit,
            f"{name}_wait": {"Type": "Wait", "Seconds": 30, "Next": f"{name}_poll"},
            f"{name}_poll": poll,
            f"{name}_check": {
                "Type": "Choice",
                "Choices": choices,
                "Default": f"{name}_wait",
            },
            f"{name}_failed": {"Type": "Fail", "Error": "TaskFailed", "Cause": f"task {step.node} failed"},
            f"{name}_done": {"Type": "Pass", "ResultPath": None},
        }
        return name, states, f"{name}_done"

    def definition(self, flow: Flow) -> dict[str, Any]:
        states: dict[str, Any] = {}
        heads: list[str] = []
        tails: list[str] = []
        for i, level in enumerate(flow.levels()):
            if len(level) == 1:
                first, sts, last = self.step_states(flow, level[0])
                states.update(sts)
            else:
                branches = []
                for step in level:
                    b_first, b_states, b_last = self.step_states(flow, step)
                    b_states[b_last]["End"] = True
                    branches.append({"StartAt": b_first, "States": b_states})
                first = last = f"level_{i + 1}"
                states[first] = {"Type": "Parallel", "Branches": branches, "ResultPath": None}
            heads.append(first)
            tails.append(last)
        for i, tail in enumerate(tails):
            if i + 1 < len(heads):
                states[tail]["Next"] = heads[i + 1]
            else:
                states[tail]["End"] = True
        return {
            "Comment": f"Glacier pipeline {flow.pipeline}"
            + (f": {flow.description.splitlines()[0]}" if flow.description else ""),
            "StartAt": heads[0],
            "States": states,
        }

    def state_machine(self, flow: Flow) -> list[Block]:
        n = flow.ident
        role_name = f"{n}_orchestrator"
        statements = []
        lambdas = sorted(
            {s.executor for s in flow.steps if self.plan.executor(s.executor).kind in ("local", "serverless")}
        )
        if lambdas:
            statements.append(
                _statement(
                    "InvokeFunctions", ["lambda:InvokeFunction"],
                    [ref(f"aws_lambda_function.{e}.arn") for e in lambdas],
                )
            )  # fmt: skip
        emrs = sorted(
            {s.executor for s in flow.steps if isinstance(self.plan.executor(s.executor).config, EMRConfig)}
        )
        if emrs:
            statements.append(
                _statement(
                    "RunEmrSteps",
                    [
                        "elasticmapreduce:AddJobFlowSteps",
                        "elasticmapreduce:CancelSteps",
                        "elasticmapreduce:DescribeStep",
                    ],
                    [ref(f"aws_emr_cluster.{e}.arn") for e in emrs],
                )
            )
            statements.append(
                _statement(
                    "EmrSyncRules", ["events:DescribeRule", "events:PutRule", "events:PutTargets"],
                    [template("arn:${data.aws_partition.current.partition}:events:${var.region}:${data.aws_caller_identity.current.account_id}:rule/StepFunctionsGetEventForEMRAddJobFlowStepsRule")],
                )
            )  # fmt: skip
        ec2s = sorted(
            {s.executor for s in flow.steps if isinstance(self.plan.executor(s.executor).config, EC2Config)}
        )
        if ec2s:
            statements.append(
                _statement(
                    "RunCommands", ["ssm:SendCommand"],
                    [
                        template("arn:${data.aws_partition.current.partition}:ssm:${var.region}::document/AWS-RunShellScript"),
                        *(template(f"arn:${{data.aws_partition.current.partition}}:ec2:${{var.region}}:${{data.aws_caller_identity.current.account_id}}:instance/${{aws_instance.{e}.id}}") for e in ec2s),
                    ],
                )
            )  # fmt: skip
            statements.append(
                _statement(
                    "ReadCommands", ["ssm:GetCommandInvocation"],
                    [template("arn:${data.aws_partition.current.partition}:ssm:${var.region}:${data.aws_caller_identity.current.account_id}:*")],
                )
            )  # fmt: skip
        dbx = sorted(
            {
                s.executor
                for s in flow.steps
                if isinstance(self.plan.executor(s.executor).config, DatabricksConfig)
            }
        )
        if dbx:
            statements.append(
                _statement(
                    "CallDatabricks", ["states:InvokeHTTPEndpoint"],
                    [template(f"arn:${{data.aws_partition.current.partition}}:states:${{var.region}}:${{data.aws_caller_identity.current.account_id}}:stateMachine:${{var.name_prefix}}-{n.replace('_', '-')}")],
                )
            )  # fmt: skip
            statements.append(
                _statement(
                    "UseConnections", ["events:RetrieveConnectionCredentials"],
                    [ref(f"aws_cloudwatch_event_connection.{e}.arn") for e in dbx],
                )
            )  # fmt: skip
            statements.append(
                _statement(
                    "ReadConnectionSecrets", ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
                    [ref(f"aws_cloudwatch_event_connection.{e}.secret_arn") for e in dbx],
                )
            )  # fmt: skip
        assume = Block("data", ("aws_iam_policy_document", f"{role_name}_assume")).add(
            Block("statement").add(
                Attr("actions", ["sts:AssumeRole"]), _principal("Service", ["states.amazonaws.com"])
            )
        )
        policy = Block("data", ("aws_iam_policy_document", role_name)).add(*statements)
        role = Block("resource", ("aws_iam_role", role_name)).add(
            Attr("name", template(f"${{var.name_prefix}}-{n.replace('_', '-')}-orchestrator")),
            Attr("assume_role_policy", ref(f"data.aws_iam_policy_document.{role_name}_assume.json")),
        )
        inline = Block("resource", ("aws_iam_role_policy", role_name)).add(
            Attr("name", "glacier-orchestration"),
            Attr("role", ref(f"aws_iam_role.{role_name}.id")),
            Attr("policy", ref(f"data.aws_iam_policy_document.{role_name}.json")),
        )
        xray = Block("resource", ("aws_iam_role_policy_attachment", role_name)).add(
            Attr("role", ref(f"aws_iam_role.{role_name}.name")),
            Attr("policy_arn", template(MANAGED + "AWSXRayDaemonWriteAccess")),
        )
        sm = Block("resource", ("aws_sfn_state_machine", n)).add(
            Comment(
                "#checkov:skip=CKV_AWS_285:execution logging needs logs:*Delivery on Resource '*', which Glacier never grants"
            ),
            Attr("name", template(f"${{var.name_prefix}}-{n.replace('_', '-')}")),
            Attr("role_arn", ref(f"aws_iam_role.{role_name}.arn")),
            Attr("definition", Call("jsonencode", _tf_json(self.definition(flow)))),
        )
        sm.block("tracing_configuration").attr("enabled", True)
        return [assume, policy, role, inline, xray, sm]


def _tf_json(value: Any) -> Any:
    """Python data for ``jsonencode``: strings holding ``${...}`` keep their interpolation."""
    if isinstance(value, dict):
        return {k: _tf_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_tf_json(v) for v in value]
    if isinstance(value, str) and "${" in value:
        return template(value)
    return value
