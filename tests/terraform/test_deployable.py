"""The export's audit findings (issue 15), each checked on the HCL, the rendered definition or the
behaviour a deployed task sees."""

from __future__ import annotations

import json

import pytest

from glacier.terraform import export
from glacier.terraform.rehearse.model import TerraformModel
from glacier.terraform.rehearse.run import _renderer_definition
from tests.terraform import tf_pipelines


@pytest.fixture(scope="module")
def every_kind(tmp_path_factory):
    from glacier.terraform.plan import build_plan

    out = tmp_path_factory.mktemp("every_kind")
    export(tf_pipelines.every_kind, out)
    return build_plan(tf_pipelines.every_kind), TerraformModel(out)


def test_functions_load_the_generated_layer_published_from_s3(every_kind):
    _, model = every_kind
    layer = model.resources["aws_lambda_layer_version", "glacier"]
    obj = model.resources["aws_s3_object", "layer"]
    assert obj["key"] == "code/layer.zip" and obj["source"].endswith("/build/aws/layer.zip")
    assert layer["s3_key"] == "${aws_s3_object.layer.key}"
    assert layer["compatible_runtimes"] == ["python3.11"]
    for ident, fn in model.of_type("aws_lambda_function").items():
        assert "aws_lambda_layer_version.glacier.arn" in fn["layers"], ident


def test_ec2_tasks_install_the_same_packages_and_run_python311(every_kind):
    plan, model = every_kind
    (flow,) = plan.flows
    states = model.resolve_tree(_renderer_definition(plan, flow))["States"]
    submit = next(s for s in _all_states(states) if s.get("Resource", "").endswith("ssm:sendCommand"))
    command = submit["Parameters"]["Parameters"]["commands.$"]
    assert "/code/layer.zip" in command
    assert "PYTHONPATH=/opt/glacier/layer/python python3.11 /opt/glacier/glacier_handler.py" in command
    (instance,) = model.of_type("aws_instance").values()
    assert "dnf install -y python3.11" in instance["user_data"]


def test_command_polling_is_allowed_on_resource_star(every_kind):
    _, model = every_kind
    policy = model.policy("every_kind_orchestrator")
    (read,) = [s for s in policy["Statement"] if "ssm:GetCommandInvocation" in s["Action"]]
    assert read["Resource"] == ["*"]


def test_encrypted_log_groups_wait_for_the_key_policy(every_kind):
    _, model = every_kind
    groups = model.of_type("aws_cloudwatch_log_group")
    assert groups
    for ident, group in groups.items():
        assert group["depends_on"] == ["${aws_kms_key_policy.glacier}"], ident


def test_emr_resources_carry_the_managed_policy_tag_and_the_service_role_may_pass_the_instance_role(
    every_kind,
):
    _, model = every_kind
    tag = {"for-use-with-amazon-emr-managed-policies": "true"}
    (cluster,) = model.of_type("aws_emr_cluster").values()
    assert cluster["tags"] == tag
    groups = [g for i, g in model.of_type("aws_security_group").items() if i.startswith("spark_")]
    assert len(groups) == 2 and all(g["tags"] == tag for g in groups)
    statements = model.policy("spark_service")["Statement"]
    assert statements[0]["Action"] == ["iam:PassRole"]
    assert statements[0]["Resource"] == [model.resolve("aws_iam_role.spark.arn")]


def test_retry_backoff_is_written_as_a_float(every_kind):
    plan, model = every_kind
    (flow,) = plan.flows
    text = json.dumps(_renderer_definition(plan, flow), default=str)
    assert '"BackoffRate": 2.0' in text


def _all_states(states):
    for state in states.values():
        yield state
        for branch in state.get("Branches", []):
            yield from _all_states(branch["States"])


def test_gcp_functions_deploy_the_built_source_with_main_py(tmp_path):
    from tests.helpers import load_example

    export(load_example("example2_heterogeneous").ml_pipeline, tmp_path, cloud="gcp")
    model = TerraformModel(tmp_path)
    source = model.resources["google_storage_bucket_object", "source"]
    assert source["source"].endswith("/build/gcp/source.zip")  # main.py inside: test_packages
    for ident, fn in model.of_type("google_cloudfunctions2_function").items():
        storage = fn["build_config"][0]["source"][0]["storage_source"][0]
        assert storage["object"] == "${google_storage_bucket_object.source.name}", ident
        assert fn["build_config"][0]["entry_point"] == "http"


def test_azure_apps_deploy_the_built_v2_app_with_the_remote_build(tmp_path):
    from tests.helpers import load_example

    export(load_example("example2_heterogeneous").ml_pipeline, tmp_path, cloud="azure")
    apps = TerraformModel(tmp_path).of_type("azurerm_linux_function_app")
    assert apps
    for ident, app in apps.items():
        assert app["zip_deploy_file"].endswith("/build/azure/function_app.zip"), ident
        settings = app["app_settings"]
        assert (
            settings["SCM_DO_BUILD_DURING_DEPLOYMENT"] == "true" and settings["ENABLE_ORYX_BUILD"] == "true"
        )


def test_every_deployed_task_is_told_its_cloud(tmp_path):
    from tests.helpers import load_example

    pipe = load_example("example2_heterogeneous").ml_pipeline
    for cloud in ("aws", "gcp", "azure"):
        export(pipe, tmp_path / cloud, cloud=cloud)
    aws, gcp, azure = (TerraformModel(tmp_path / c) for c in ("aws", "gcp", "azure"))
    for fn in aws.of_type("aws_lambda_function").values():
        assert fn["environment"][0]["variables"] == {"GLACIER_CLOUD": "aws"}
    for fn in gcp.of_type("google_cloudfunctions2_function").values():
        assert fn["service_config"][0]["environment_variables"]["GLACIER_CLOUD"] == "gcp"
    for app in azure.of_type("azurerm_linux_function_app").values():
        assert app["app_settings"]["GLACIER_CLOUD"] == "azure"
        assert app["app_settings"]["AZURE_STORAGE_ACCOUNT_NAME"] == "${var.storage_account_name}"


def test_azure_staging_uri_names_its_account():
    from glacier.clouds.azure.logicapp import STAGING

    assert STAGING.startswith("abfss://glacier-artifacts@${var.storage_account_name}.dfs.core.windows.net/")


def test_a_retargeted_module_builds_the_deployed_clouds_provider(monkeypatch):
    from glacier import Provider
    from glacier.config import CloudFunctionConfig, GcpConfig, GCSConfig

    monkeypatch.setenv("GLACIER_CLOUD", "aws")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    provider = Provider(config=GcpConfig(project_id="my-project"))
    assert provider.cloud == "aws" and provider.config.region == "eu-west-1"
    assert type(provider.source_config).__name__ == "GcpConfig"
    bucket = provider.bucket(bucket="lake", path="raw/x.parquet", config=GCSConfig())
    assert bucket.get_uri() == "s3://lake/raw/x.parquet"
    assert provider.serverless(config=CloudFunctionConfig(memory=512)).kind == "serverless"
    monkeypatch.setenv("GLACIER_CLOUD", "ibm")
    with pytest.raises(ValueError, match="GLACIER_CLOUD='ibm' names no cloud"):
        Provider(config=GcpConfig(project_id="my-project"))
    monkeypatch.setenv("GLACIER_CLOUD", "gcp")
    assert Provider(config=GcpConfig(project_id="my-project")).source_config is None  # not re-targeted
