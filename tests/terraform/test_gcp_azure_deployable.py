"""The GCP and Azure exports' audit findings (issue 15), each checked on the HCL or on the
rendered orchestrator definition; and the provider config a deployed module runs with."""

from __future__ import annotations

import json
import re

import pytest

from glacier import Provider
from glacier.clouds.registry import cloud_named
from glacier.config import AwsConfig, CloudFunctionConfig, DaskConfig, EC2Config, LambdaConfig, S3Config
from glacier.terraform import export
from glacier.terraform.hcl import Raw
from glacier.terraform.plan import build_plan
from glacier.terraform.rehearse.model import TerraformModel
from tests.terraform import tf_pipelines


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """every_kind (local, Lambda, EC2, EMR, Databricks) re-targeted to GCP and to Azure."""
    out = {}
    for cloud in ("gcp", "azure"):
        folder = tmp_path_factory.mktemp(cloud)
        export(tf_pipelines.every_kind, folder, cloud=cloud)
        plan = build_plan(tf_pipelines.every_kind, cloud=cloud)
        renderer = cloud_named(cloud).load_renderer()(plan)
        out[cloud] = (plan, TerraformModel(folder), renderer, folder)
    return out


def _definition(exported, cloud):
    plan, _, renderer, _ = exported[cloud]
    if cloud == "gcp":
        return renderer.definition(plan.flows[0])
    return {
        s.ident: renderer.action(plan.flows[0], s, "every_kind_orchestrator") for s in plan.flows[0].steps
    }


def _walk(value):
    """Every dict in a nested value."""
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


def _steps(definition):
    """GCP: ``{step name: body}`` of every step, at any depth."""
    out = {}
    for d in _walk(definition):
        if "steps" in d and isinstance(d["steps"], list):
            for step in d["steps"]:
                out.update(step)
    return out


# -- the deployed module knows its cloud -----------------------------------------------------
def test_a_retargeted_module_keeps_its_configs_as_the_export_translated_them(monkeypatch):
    monkeypatch.setenv("GLACIER_CLOUD", "gcp")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "my-project")
    provider = Provider(config=AwsConfig(region="us-east-1"))
    assert provider.cloud == "gcp" and provider.config.project_id == "my-project"
    bucket = provider.bucket(
        bucket="data-lake", path="raw/x.parquet", config=S3Config(storage_class="STANDARD_IA")
    )
    assert bucket.get_uri() == "gs://data-lake/raw/x.parquet"
    assert bucket.config.storage_class == "NEARLINE"  # as the export re-targeted it
    fn = provider.serverless(config=LambdaConfig(memory=2048))
    assert isinstance(fn.config, CloudFunctionConfig) and fn.config.memory == 2048
    assert fn.name == "lambda"  # named as where the module was written
    assert provider.vm(config=EC2Config(instance_type="t3.large")).config.machine_type == "e2-standard-2"
    assert isinstance(provider.cluster(config=DaskConfig()).config, DaskConfig)  # never exported: kept


def test_every_deployed_gcp_task_is_told_its_cloud_and_project(exported):
    _, model, _, folder = exported["gcp"]
    want = {"GLACIER_CLOUD": "gcp", "GOOGLE_CLOUD_PROJECT": "${var.project_id}"}
    for ident, fn in model.of_type("google_cloudfunctions2_function").items():
        assert fn["service_config"][0]["environment_variables"] == want, ident
    job = model.resources["databricks_job", "dbx"]
    assert job["job_cluster"][0]["new_cluster"][0]["spark_env_vars"] == want
    steps = _steps(_definition(exported, "gcp"))
    args = steps["aggregate"]["args"]["body"]["job"]["pysparkJob"]["args"]
    assert args[-2:] == ["GLACIER_CLOUD=gcp", Raw('"GOOGLE_CLOUD_PROJECT=${var.project_id}"')]
    startup = (folder / "scripts" / "gcp_vm_startup.sh").read_text()
    assert "export GLACIER_CLOUD=gcp GOOGLE_CLOUD_PROJECT=" in startup


def test_every_deployed_azure_task_is_told_its_cloud_account_and_identity(exported):
    _, model, _, folder = exported["azure"]
    for ident, app in model.of_type("azurerm_linux_function_app").items():
        settings = app["app_settings"]
        assert settings["GLACIER_CLOUD"] == "azure", ident
        assert settings["AZURE_STORAGE_ACCOUNT"] == "${var.storage_account_name}"
        assert settings["AZURE_CLIENT_ID"] == f"${{azurerm_user_assigned_identity.{ident}.client_id}}"
    job = model.resources["databricks_job", "dbx"]
    assert job["job_cluster"][0]["new_cluster"][0]["spark_env_vars"]["GLACIER_CLOUD"] == "azure"
    script = (folder / "scripts" / "azure_vm_task.sh").read_text()
    assert 'GLACIER_CLOUD=azure AZURE_STORAGE_ACCOUNT="$GLACIER_ACCOUNT" AZURE_CLIENT_ID=' in script


# -- staging, VMs ----------------------------------------------------------------------------
def test_azure_staging_uri_names_the_storage_account(exported):
    for ident, action in _definition(exported, "azure").items():
        if ident == "enrich":  # the VM's task: in its script (see the VM test)
            continue
        bodies = [
            d["body"] for d in _walk(action) if isinstance(d.get("body"), dict) and "staging" in d["body"]
        ]
        bodies += [d["job_parameters"] for d in _walk(action) if "job_parameters" in d]
        assert bodies, ident
        for body in bodies:
            assert str(body["staging"]) == (
                '"abfss://glacier-artifacts@${var.storage_account_name}.dfs.core.windows.net/runs"'
            )


def test_gcp_vm_task_gets_the_staging_argument_and_a_failed_run_fails_the_workflow(exported):
    steps = _steps(_definition(exported, "gcp"))
    items = {i["key"]: i["value"] for i in steps["enrich_assign"]["args"]["body"]["items"]}
    assert (
        items["glacier-task"] == '${"every_kind enrich " + run + " " + staging}'
    )  # 4 words: P T RUN STAGING
    assert "gcp_vm_startup.sh" in str(items["startup-script"])
    check = steps["enrich_check"]["switch"]
    assert any("raise" in c and "sys.now() > enrich_until" in c["condition"] for c in check)  # bounded
    assert steps["enrich_read"]["args"]["object"].endswith('/enrich.outcome.json")}')
    (verdict,) = steps["enrich_verdict"]["switch"]
    assert verdict["condition"] == '${enrich_outcome.status != "succeeded"}' and "raise" in verdict
    script = exported["gcp"][3] / "scripts" / "gcp_vm_startup.sh"
    text = script.read_text()
    assert 'glacier_handler.py" "$@"' in text and 'cp "$G/outcome.json" "$4/$3/$2.outcome.json"' in text


def test_azure_vms_allow_run_command_and_report_their_outcome(exported):
    _, model, _, folder = exported["azure"]
    (vm,) = model.of_type("azurerm_linux_virtual_machine").values()
    assert vm["allow_extension_operations"] is True
    scope = _definition(exported, "azure")["enrich"]["actions"]
    script = str(scope["enrich_start"]["inputs"]["body"]["script"])
    assert "GLACIER_TASK='every_kind enrich @{workflow().run.name} abfss://" in script
    assert "azure_vm_task.sh" in script
    text = (folder / "scripts" / "azure_vm_task.sh").read_text()
    assert " az " not in text  # no Azure CLI on the image: the metadata service and curl
    assert "systemd-run" in text and "outcome.json" in text


# -- clusters --------------------------------------------------------------------------------
def test_dataproc_installs_the_pinned_dependencies_and_its_account_can_work(exported):
    _, model, _, folder = exported["gcp"]
    (cluster,) = model.of_type("google_dataproc_cluster").values()
    config = cluster["cluster_config"][0]
    init = config["initialization_action"][0]
    assert init["script"].endswith("${google_storage_bucket_object.dataproc_init.name}")
    assert "glacier-deps" in config["gce_cluster_config"][0]["metadata"]
    assert config["staging_bucket"] == "${google_storage_bucket.glacier_dataproc.name}"
    roles = {(b["role"], b.get("bucket")) for b in model.of_type("google_storage_bucket_iam_member").values()}
    assert ("roles/storage.objectAdmin", "${google_storage_bucket.glacier_dataproc.name}") in roles
    workers = [
        m for m in model.of_type("google_project_iam_member").values() if m["role"] == "roles/dataproc.worker"
    ]
    assert workers and workers[0]["member"] == "serviceAccount:${google_service_account.spark.email}"
    assert "glacier.pth" in (folder / "scripts" / "dataproc_init.sh").read_text()


@pytest.mark.parametrize("cloud", ["gcp", "azure"])
def test_databricks_jobs_install_glacier_and_the_pinned_requirements(exported, cloud):
    _, model, _, _ = exported[cloud]
    job = model.resources["databricks_job", "dbx"]
    task = job["task"][0]
    libraries = task["library"]
    assert libraries[0]["whl"] == "${databricks_workspace_file.dbx_wheel.workspace_path}"
    (pins,) = task["dynamic"]
    assert f"build/{cloud}/requirements.txt" in pins["library"]["for_each"]
    wheel = model.resources["databricks_workspace_file", "dbx_wheel"]
    assert re.search(rf"/build/{cloud}/glacier_pipelines-.+-py3-none-any\.whl$", wheel["source"])


# -- functions -------------------------------------------------------------------------------
def test_azure_needs_no_shared_key_from_the_machine_running_terraform(exported):
    _, model, _, _ = exported["azure"]
    account = model.resources["azurerm_storage_account", "data"]
    assert account["shared_access_key_enabled"] is False and "queue_properties" not in account
    blobs = model.of_type("azurerm_storage_blob")
    assert set(blobs) == {"code", "deps"}  # only what the VM downloads, by the deployer's Entra ID role
    for blob in blobs.values():
        assert blob["depends_on"] == ["${azurerm_role_assignment.deployer_artifacts}"]


def test_azure_network_access_matches_how_deploy_and_the_logic_app_reach_it(exported):
    _, model, _, _ = exported["azure"]
    account = model.resources["azurerm_storage_account", "data"]
    assert account["public_network_access_enabled"] is True  # the deployer and consumption functions
    assert account["network_rules"][0]["default_action"] == "${var.storage_network_default_action}"
    for app in model.of_type("azurerm_linux_function_app").values():
        assert app["public_network_access_enabled"] is True  # the Logic App calls it over the internet
        site = app["site_config"][0]
        assert site["ip_restriction_default_action"] == "Deny"
        assert site["ip_restriction"][0]["service_tag"] == "LogicApps"


# -- orchestrators ----------------------------------------------------------------------------
def test_workflows_http_calls_fit_workflows_and_long_functions_start_then_poll(exported):
    steps = _steps(_definition(exported, "gcp"))
    posts = [
        s
        for s in _walk(_definition(exported, "gcp"))
        if s.get("call") == "http.post" and "timeout" in s["args"]
    ]
    assert posts and all(p["args"]["timeout"] <= 1800 for p in posts)
    # the local runner's function has 3,600 s: past the call, the outcome record is polled
    load = steps["load"]
    assert load["try"]["steps"][0]["load_call"]["args"]["body"]["outcome"] is True
    handled = _steps(load["except"])
    assert "TimeoutError" in handled["load_timed_out"]["switch"][0]["condition"]
    assert handled["load_poll"]["try"]["args"]["object"].endswith('/load.outcome.json")}')
    assert any("sys.now() > load_until" in c["condition"] for c in handled["load_check"]["switch"])


def test_databricks_terminal_failures_fail_the_run_and_polls_are_bounded(exported):
    steps = _steps(_definition(exported, "gcp"))
    check = steps["score_check"]["switch"]
    assert "INTERNAL_ERROR" in check[0]["condition"] and "SKIPPED" in check[0]["condition"]
    assert "sys.now() > score_until" in check[0]["condition"] and "raise" in check[0]
    assert check[2]["condition"] == '${score_polled.body.state.life_cycle_state != "TERMINATED"}'
    assert "raise" in check[2] and "raise" in check[3]
    azure = _definition(exported, "azure")
    until = azure["score"]["actions"]["score_until"]
    assert "INTERNAL_ERROR" in until["expression"] and "SKIPPED" in until["expression"]
    assert until["limit"]["timeout"] != "PT24H" and "vm_task_timeout_seconds" in str(
        until["limit"]["timeout"]
    )
    for ident, action in azure.items():
        for loop in (d for d in _walk(action) if d.get("type") == "Until"):
            assert "PT24H" not in json.dumps(loop["limit"], default=str), ident


def test_workflows_run_the_exact_dag_in_parallel_branches(exported):
    plan = exported["gcp"][0]
    definition = _definition(exported, "gcp")
    (parallel,) = [d["parallel"] for d in _walk(definition) if "parallel" in d]
    assert len(parallel["branches"]) == 2  # load-clean-enrich-aggregate-publish | score
    branches = {next(iter(b)): json.dumps(b) for b in parallel["branches"]}
    score = next(text for text in branches.values() if '"score_begin"' in text)
    assert '"aggregate_begin"' not in score  # score does not wait for aggregate
    steps = _steps(definition)
    assert steps["score_ready"]["switch"][1]["condition"] == "${not(done_enrich)}"  # its own input only
    assert steps["publish_ready"]["switch"][1]["condition"] == "${not(done_score)}"
    assert set(parallel["shared"]) == {"failed", "done_enrich", "done_score"}
    assert plan.flows[0].levels()[2] != []  # (the old level-by-level form made score wait for aggregate)


def test_logic_app_tasks_run_after_their_own_inputs(exported):
    plan = exported["azure"][0]
    actions = _definition(exported, "azure")
    for step in plan.flows[0].steps:
        assert set(actions[step.ident]["runAfter"]) == set(step.upstream), step.ident
