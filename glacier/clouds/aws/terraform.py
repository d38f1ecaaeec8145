"""AWS: S3, Lambda, EC2, EMR, Databricks; AWS Step Functions orchestrates (``stepfunctions.py``)."""

from __future__ import annotations

from typing import Any, ClassVar

from glacier.clouds.aws.iam import KMS_ADMIN, KMS_USE, assume, attach, principal, role, statement, tf_json
from glacier.clouds.aws.stepfunctions import StepFunctions
from glacier.config.execution import EC2Config, EMRConfig, LambdaConfig
from glacier.config.storage import S3Config
from glacier.terraform.base import output, prefixed, ref, variable
from glacier.terraform.hcl import Attr, Block, Call, Comment, Raw, template
from glacier.terraform.plan import ARTIFACTS, BucketSpec, ExecutorSpec

__all__ = ["AwsRenderer"]

#: AmazonEMRServicePolicy_v2 acts only on clusters and security groups carrying this tag.
_EMR_MANAGED = {"for-use-with-amazon-emr-managed-policies": "true"}


class AwsRenderer(StepFunctions):
    cloud: ClassVar[str] = "aws"
    orchestrator: ClassVar[str] = "AWS Step Functions (one state machine per pipeline)"
    providers: ClassVar[dict[str, tuple[str, str]]] = {
        "archive": ("hashicorp/archive", "~> 2.4"),
        "aws": ("hashicorp/aws", "~> 5.0"),
    }
    bucket_output = ("bucket_names", "aws_s3_bucket.{}.bucket", "Data buckets, by Glacier bucket name.")
    function_output = ("function_arns", "aws_lambda_function.{}.arn", "Lambda functions, by executor name.")
    flow_output = (
        "state_machine_arns",
        "aws_sfn_state_machine.{}.arn",
        "Step Functions state machines, by pipeline name: start an execution to run it.",
    )

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
                "lambda_layer_arns",
                "list(string)",
                "Extra layers for the functions (the generated layer holds Glacier and every pinned dependency).",
                [],
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

    def extra_outputs(self) -> list[Block]:
        return [
            output(
                "artifacts_bucket", ref("aws_s3_bucket.glacier_artifacts.bucket"), "Code and task outputs."
            )
        ]

    # -- main --------------------------------------------------------------------------
    def provider(self) -> Block:
        provider = self.wire_secrets(Block("provider", ("aws",)).add(Attr("region", ref("var.region"))))
        provider.block("default_tags").attr("tags", ref("var.tags"))
        return provider

    def foundation(self) -> list[Any]:
        items: list[Any] = [
            Block("data", ("aws_caller_identity", "current")),
            Block("data", ("aws_partition", "current")),
            *self.kms(),
            self.archive(),
        ]
        artifacts = BucketSpec(ARTIFACTS, "glacier_artifacts", S3Config())
        for bucket in [*self.plan.buckets, artifacts]:
            items += self.bucket(bucket, artifacts=bucket is artifacts)
        return items + self.code_objects()

    def kms(self) -> list[Block]:
        key = Block("resource", ("aws_kms_key", "glacier")).add(
            Attr("description", template("Glacier ${var.name_prefix}: logs and queues")),
            Attr("enable_key_rotation", True),
            Attr("deletion_window_in_days", 30),
        )
        account = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
        logs = "logs.${var.region}.amazonaws.com"
        doc = Block("data", ("aws_iam_policy_document", "kms")).add(
            statement(
                "AccountAdministers", KMS_ADMIN, [ref("aws_kms_key.glacier.arn")],
                principals=principal("AWS", [template(account)]),
            ),
            statement(
                "LogsEncrypt", KMS_USE, [ref("aws_kms_key.glacier.arn")],
                principals=principal("Service", [template(logs)]),
            ),
        )  # fmt: skip
        policy = Block("resource", ("aws_kms_key_policy", "glacier")).add(
            Attr("key_id", ref("aws_kms_key.glacier.id")),
            Attr("policy", ref("data.aws_iam_policy_document.kms.json")),
        )
        return [key, doc, policy]

    def bucket(self, b: BucketSpec, *, artifacts: bool) -> list[Block]:
        cfg = self.storage(b)
        r = f"aws_s3_bucket.{b.ident}"
        name = self.name("artifacts") if artifacts else b.name
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

    @property
    def _has_functions(self) -> bool:
        return any(e.kind in ("local", "serverless") for e in self.plan.executors)

    def layer(self) -> list[Any]:
        """The dependency layer ``glacier terraform`` builds (build/aws/layer.zip, sizes in
        build/aws/manifest.json): uploaded to the artifacts bucket, since a layer over 50 MB
        zipped cannot go with the API call, and published from there. EC2 instances
        download the same archive."""
        if not self._has_functions and not any(isinstance(e.config, EC2Config) for e in self.plan.executors):
            return []
        source = "${path.module}/build/aws/layer.zip"
        items: list[Any] = [
            Block("resource", ("aws_s3_object", "layer")).add(
                Comment(
                    "Glacier and every pinned dependency, built by `glacier terraform` for the runtime\n"
                    "(manylinux wheels); over 50 MB zipped, so Lambda publishes it from S3."
                ),
                Attr("bucket", ref("aws_s3_bucket.glacier_artifacts.id")),
                Attr("key", "code/layer.zip"),
                Attr("source", template(source)),
                Attr("source_hash", Raw(f'filemd5("{source}")')),
            )
        ]
        if self._has_functions:
            runtimes = sorted(
                {e.config.runtime for e in self.plan.executors if isinstance(e.config, LambdaConfig)}
            )
            arches = sorted(
                {e.config.architecture for e in self.plan.executors if isinstance(e.config, LambdaConfig)}
            )
            items.append(
                Block("resource", ("aws_lambda_layer_version", "glacier")).add(
                    Attr("layer_name", self.name("deps")),
                    Attr("description", "Glacier and the pipeline's pinned dependencies"),
                    Attr("s3_bucket", ref("aws_s3_bucket.glacier_artifacts.id")),
                    Attr("s3_key", ref("aws_s3_object.layer.key")),
                    Attr("source_code_hash", Raw(f'filebase64sha256("{source}")')),
                    Attr("compatible_runtimes", runtimes),
                    Attr("compatible_architectures", arches),
                )
            )
        return items

    def code_objects(self) -> list[Block]:
        return [
            *self.layer(),
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
                statement(
                    f"List{sid}", ["s3:ListBucket"], [ref(arn)],
                    condition=Block("condition").add(
                        Attr("test", "StringLike"), Attr("variable", "s3:prefix"),
                        Attr("values", sorted(reads | writes)),
                    ),
                )
            )  # fmt: skip
            objects = [template(f"${{{arn}}}/{k}") for k in sorted(reads | writes)]
            out.append(statement(f"Read{sid}", ["s3:GetObject", "s3:GetObjectVersion"], objects))
            if writes:
                objects = [template(f"${{{arn}}}/{k}") for k in sorted(writes)]
                out.append(
                    statement(
                        f"Write{sid}", ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:PutObject"], objects
                    )
                )
        art = "aws_s3_bucket.glacier_artifacts.arn"
        out.append(statement("ReadCode", ["s3:GetObject"], [template(f"${{{art}}}/code/*")]))
        out.append(
            statement("TaskOutputs", ["s3:GetObject", "s3:PutObject"], [template(f"${{{art}}}/runs/*")])
        )
        if self._has_emr:
            out.append(
                statement(
                    "UseGlacierKey", ["kms:Decrypt", "kms:GenerateDataKey"], [ref("aws_kms_key.glacier.arn")]
                )
            )
        return out

    @property
    def _has_emr(self) -> bool:
        return any(isinstance(e.config, EMRConfig) for e in self.plan.executors)

    def identity(self, ex: ExecutorSpec) -> list[Block]:
        service = {"local": "lambda", "serverless": "lambda", "vm": "ec2", "cluster": "ec2"}[ex.kind]
        statements = self.data_statements(ex)
        if service == "lambda":
            statements.append(
                statement(
                    "Logs", ["logs:CreateLogStream", "logs:PutLogEvents"],
                    [template(f"${{aws_cloudwatch_log_group.{ex.ident}.arn}}:*")],
                )
            )  # fmt: skip
            statements.append(
                statement("DeadLetters", ["sqs:SendMessage"], [ref(f"aws_sqs_queue.{ex.ident}_dlq.arn")])
            )
            statements.append(  # the environment variables are encrypted with the Glacier key
                statement("DecryptEnvironment", ["kms:Decrypt"], [ref("aws_kms_key.glacier.arn")])
            )
        out = role(
            ex.ident, self.name(ex.ident), f"{service}.amazonaws.com", statements, "glacier-data-access"
        )
        managed = {
            "lambda": ["AWSXRayDaemonWriteAccess", "service-role/AWSLambdaVPCAccessExecutionRole"],
            "ec2": [] if isinstance(ex.config, EMRConfig) else ["AmazonSSMManagedInstanceCore"],
        }[service]
        out += [attach(f"{ex.ident}_{i}", ex.ident, arn) for i, arn in enumerate(managed)]
        if service == "ec2":
            out.append(
                Block("resource", ("aws_iam_instance_profile", ex.ident)).add(
                    Attr("name", self.name(ex.ident)), Attr("role", ref(f"aws_iam_role.{ex.ident}.name"))
                )
            )
        return out

    # -- compute -----------------------------------------------------------------------
    def function(self, ex: ExecutorSpec, cfg: LambdaConfig) -> list[Block]:
        name = self.name(ex.ident)
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
            Attr(
                "layers",
                Call("concat", [ref("aws_lambda_layer_version.glacier.arn")], ref("var.lambda_layer_arns")),
            ),
            Attr("reserved_concurrent_executions", concurrency),
            Attr("code_signing_config_arn", ref("aws_lambda_code_signing_config.glacier.arn")),
            Attr("kms_key_arn", ref("aws_kms_key.glacier.arn")),
        )
        # the cloud the task runs on: a re-targeted module builds this cloud's provider
        fn.block("environment").attr("variables", {"GLACIER_CLOUD": "aws"})
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
                Attr("name", template("/aws/lambda/" + prefixed(ex.ident))),
                Attr("retention_in_days", ref("var.log_retention_days")),
                Attr("kms_key_id", ref("aws_kms_key.glacier.arn")),
                # CloudWatch Logs checks the key policy when the group is created
                Attr("depends_on", [ref("aws_kms_key_policy.glacier")]),
            ),
            Block("resource", ("aws_sqs_queue", f"{ex.ident}_dlq")).add(
                Attr("name", self.name(ex.ident, "dlq")),
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

    def vm(self, ex: ExecutorSpec, cfg: EC2Config) -> list[Block]:
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
            # the layer's wheels are for CPython 3.11: the task command runs python3.11
            Attr("user_data", "#!/bin/bash\nset -e\ndnf install -y python3.11\n"),
            Attr("user_data_replace_on_change", True),
        )
        inst.block("metadata_options").add(Attr("http_endpoint", "enabled"), Attr("http_tokens", "required"))
        inst.block("root_block_device").add(
            Attr("encrypted", True), Attr("volume_size", cfg.disk_size_gb), Attr("volume_type", "gp3")
        )
        return [*items, inst]

    def cluster(self, ex: ExecutorSpec, cfg: EMRConfig) -> list[Block]:
        """An EMR cluster kept alive for steps, encrypted at rest and in transit."""
        n = ex.ident
        service_role = Block("resource", ("aws_iam_role", f"{n}_service")).add(
            Attr("name", self.name(n, "service")),
            Attr("assume_role_policy", ref(f"data.aws_iam_policy_document.{n}_service_assume.json")),
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
            Attr("name", self.name(n)),
            Attr("configuration", Call("jsonencode", tf_json(security))),
        )
        cluster = Block("resource", ("aws_emr_cluster", n)).add(
            Attr("name", self.name(n)),
            Attr("release_label", cfg.release_label),
            Attr("applications", list(cfg.applications)),
            Attr("service_role", ref(f"aws_iam_role.{n}_service.arn")),
            Attr("security_configuration", ref(f"aws_emr_security_configuration.{n}.name")),
            Attr("log_uri", template("s3://${aws_s3_bucket.glacier_artifacts.bucket}/emr-logs/")),
            Attr("keep_job_flow_alive_when_no_steps", True),
            Attr("termination_protection", False),
            Attr("tags", _EMR_MANAGED),
        )
        cluster.block("ec2_attributes").add(
            Attr("subnet_id", ref("var.subnet_ids[0]")),
            Attr("instance_profile", ref(f"aws_iam_instance_profile.{n}.arn")),
            Attr("emr_managed_master_security_group", ref(f"aws_security_group.{n}_master.id")),
            Attr("emr_managed_slave_security_group", ref(f"aws_security_group.{n}_core.id")),
        )
        groups = [
            Block("resource", ("aws_security_group", f"{n}_{side}")).add(
                Attr("name", self.name(n, side)),
                Attr("description", f"EMR {side} nodes of executor {ex.name}; EMR manages the rules"),
                Attr("vpc_id", ref("var.vpc_id")),
                Attr("revoke_rules_on_delete", True),
                Attr("tags", _EMR_MANAGED),
            )
            for side in ("master", "core")
        ]
        cluster.block("master_instance_group").attr("instance_type", cfg.instance_type)
        cluster.block("core_instance_group").add(
            Attr("instance_type", cfg.instance_type), Attr("instance_count", cfg.num_workers)
        )
        pass_role = [
            Block("data", ("aws_iam_policy_document", f"{n}_service")).add(
                statement("PassInstanceRole", ["iam:PassRole"], [ref(f"aws_iam_role.{n}.arn")])
            ),
            Block("resource", ("aws_iam_role_policy", f"{n}_service")).add(
                Attr("name", "glacier-pass-instance-role"),
                Attr("role", ref(f"aws_iam_role.{n}_service.id")),
                Attr("policy", ref(f"data.aws_iam_policy_document.{n}_service.json")),
            ),
        ]
        service = [
            assume(f"{n}_service", "elasticmapreduce.amazonaws.com"),
            service_role,
            attach(f"{n}_service", f"{n}_service", "service-role/AmazonEMRServicePolicy_v2"),
            *pass_role,
        ]
        return [*service, sec, *groups, cluster]

    def databricks_before(self, ex: ExecutorSpec) -> list[Block]:
        return [
            Block("resource", ("databricks_instance_profile", ex.ident)).add(
                Attr("instance_profile_arn", ref(f"aws_iam_instance_profile.{ex.ident}.arn"))
            )
        ]

    def databricks_node(self, ex: ExecutorSpec, cluster: Block) -> None:
        cluster.block("aws_attributes").attr(
            "instance_profile_arn", ref(f"databricks_instance_profile.{ex.ident}.instance_profile_arn")
        )

    def databricks_after(self, ex: ExecutorSpec) -> list[Block]:
        """The connection Step Functions calls the Jobs API through."""
        return [
            Block("resource", ("aws_cloudwatch_event_connection", ex.ident)).add(
                Attr("name", self.name(ex.ident)),
                Attr("authorization_type", "API_KEY"),
                Block("auth_parameters").add(
                    Block("api_key").add(
                        Attr("key", "Authorization"),
                        Attr("value", template("Bearer ${var.databricks_token}")),
                    )
                ),
            )
        ]
