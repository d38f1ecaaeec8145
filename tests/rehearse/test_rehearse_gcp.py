"""``glacier rehearse`` on GCP: the generated Workflows definition interpreted, each Cloud
Function built from its source and served by functions-framework, VMs running their start-up
script, on the GCS emulator; outputs equal to run(mode="local")."""

from __future__ import annotations

import pytest

from glacier.terraform.rehearse import rehearse
from tests.rehearse import gcp_native, pipelines
from tests.rehearse.cloud_storage import prepare
from tests.servers import require_server

pytestmark = pytest.mark.slow


@pytest.fixture
def gcs(servers, monkeypatch):
    prepare(require_server(servers, "gcs"), monkeypatch)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return {name: tmp_path_factory.mktemp(name) for name in ("ml", "fan", "aws")}


def test_example2_without_databricks_passes(gcs, folders):
    result = rehearse(gcp_native.ml_pipeline, out=folders["ml"])
    text = result.table()
    assert result.passed, text
    assert text.splitlines()[-1] == "rehearsal passed"
    rows = {t.task: t for t in result.tasks}
    assert [t.status for t in rows.values()] == ["succeeded"] * 3
    assert rows["clean"].rows == rows["clean"].local_rows == 3
    assert rows["clean"].where == "Cloud Function cloud_function"
    assert [what for what, _, _ in result.outputs] == [
        "returned by ml_inference",
        "gs://data-lake/features/features.parquet",
    ]
    assert result.evaluated_by == "terraform"


def test_fan_out_fan_in_with_local_function_and_vm_tasks_passes(gcs, folders):
    result = rehearse(gcp_native.fan, out=folders["fan"])
    assert result.passed, result.table()
    where = {t.task: t.where for t in result.tasks}
    assert where["ranked"] == "VM fan-box" and where["doubled"].startswith("Cloud Function")
    assert {t.task: t.rows for t in result.tasks}["ranked"] == 3  # recorded by the VM's start-up script
    assert result.waited > 0  # the workflow polled the VM until it powered off


def test_a_failed_vm_task_fails_the_workflow(gcs, folders):
    if not (folders["fan"] / "build" / "gcp" / "deps.zip").is_file():
        assert rehearse(gcp_native.fan, out=folders["fan"]).passed
    result = rehearse(gcp_native.broken, out=folders["fan"])  # the same VM deployment, built
    assert not result.passed
    last = result.table().splitlines()[-1]
    assert last.startswith("rehearsal failed: task ranked_badly (VM broken-box) failed: ")
    assert "ValueError: this VM task fails on purpose" in last


def test_the_aws_modules_retargeted_to_gcp_pass(gcs, folders):
    for pipe in (pipelines.ml_pipeline, pipelines.fan):
        result = rehearse(pipe, cloud="gcp", out=folders["aws"])
        assert result.passed, result.table()
        assert all(what.startswith(("returned by", "gs://")) for what, _, _ in result.outputs)
    assert {t.task: t.where for t in result.tasks}["clean"] == "Cloud Function lambda"
