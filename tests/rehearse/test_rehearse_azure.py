"""``glacier rehearse`` on Azure: the generated Logic App interpreted, each function app
built from its package and loaded through azure-functions, VMs running their Run Command
script, on Azurite; outputs equal to run(mode="local")."""

from __future__ import annotations

import pytest

from glacier.terraform.rehearse import rehearse
from tests.rehearse import azure_native, pipelines
from tests.rehearse.cloud_storage import prepare
from tests.servers import require_server

pytestmark = pytest.mark.slow


@pytest.fixture
def azurite(servers, monkeypatch):
    prepare(require_server(servers, "azure"), monkeypatch)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return {name: tmp_path_factory.mktemp(name) for name in ("ml", "fan", "aws")}


def test_example2_without_databricks_passes(azurite, folders):
    result = rehearse(azure_native.ml_pipeline, out=folders["ml"])
    text = result.table()
    assert result.passed, text
    assert text.splitlines()[-1] == "rehearsal passed"
    rows = {t.task: t for t in result.tasks}
    assert [t.status for t in rows.values()] == ["succeeded"] * 3
    assert rows["clean"].rows == rows["clean"].local_rows == 3
    assert rows["clean"].where == "Function ml-inference-azure-function"
    assert [what for what, _, _ in result.outputs] == [
        "returned by ml_inference",
        "az://data-lake/features/features.parquet",
    ]


def test_a_failed_function_task_fails_the_logic_app_run(azurite, folders):
    result = rehearse(azure_native.broken, out=folders["ml"])
    assert not result.passed
    last = result.table().splitlines()[-1]
    assert last.startswith("rehearsal failed: task clean_badly (Function broken-azure-function) failed: ")
    assert "this function task fails on purpose" in last
    assert {t.task: t.status for t in result.tasks} == {"extract": "succeeded", "clean_badly": "failed"}


def test_fan_out_fan_in_with_local_function_and_vm_tasks_passes(azurite, folders):
    result = rehearse(azure_native.fan, out=folders["fan"])
    assert result.passed, result.table()
    where = {t.task: t.where for t in result.tasks}
    assert where["ranked"] == "VM fan-box" and where["doubled"].startswith("Function ")
    assert {t.task: t.rows for t in result.tasks}["ranked"] == 3  # recorded by the VM's task script
    assert result.waited > 0  # the Logic App polled the outcome records


def test_the_aws_modules_retargeted_to_azure_pass(azurite, folders):
    for pipe in (pipelines.ml_pipeline, pipelines.fan):
        result = rehearse(pipe, cloud="azure", out=folders["aws"])
        assert result.passed, result.table()
        assert all(what.startswith(("returned by", "az://")) for what, _, _ in result.outputs)
    assert {t.task: t.where for t in result.tasks}["clean"] == "Function fan-lambda"
