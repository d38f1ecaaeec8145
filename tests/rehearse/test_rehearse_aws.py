"""``glacier rehearse`` on AWS: the generated deployment runs on moto with IAM enforced, each
task from its built package in an isolated process, and its outputs equal run(mode="local")."""

from __future__ import annotations

import re

import pytest

from glacier.terraform.rehearse import rehearse
from tests.rehearse import pipelines

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return {name: tmp_path_factory.mktemp(name) for name in ("ml", "fan", "neg")}


def test_example2_without_databricks_passes(aws_env, folders):
    result = rehearse(pipelines.ml_pipeline, out=folders["ml"])
    text = result.table()
    assert result.passed, text
    assert text.splitlines()[-1] == "rehearsal passed"
    rows = {t.task: t for t in result.tasks}
    assert set(rows) == {"extract", "clean", "save"}
    assert all(t.status == "succeeded" for t in rows.values())
    assert rows["clean"].rows == rows["clean"].local_rows == 3
    assert "Lambda" in rows["clean"].where
    assert all(equal for _, equal, _ in result.outputs) and len(result.outputs) == 2


def test_fan_out_fan_in_with_local_lambda_and_vm_tasks_passes(aws_env, folders):
    result = rehearse(pipelines.fan, out=folders["fan"])
    assert result.passed, result.table()
    where = {t.task: t.where for t in result.tasks}
    assert where["ranked"].startswith("EC2 ") and where["doubled"].startswith("Lambda ")
    assert result.waited > 0  # the poll loop of the EC2 command went through its Wait state


def test_a_missing_permission_fails_with_the_task_and_the_action(aws_env, folders):
    import shutil

    if not (folders["ml"] / "build" / "aws" / "layer.zip").is_file():
        assert rehearse(pipelines.ml_pipeline, out=folders["ml"]).passed
    out = folders["neg"] / "tf"
    shutil.copytree(folders["ml"], out)  # the deployment that passed above, built
    main = (out / "main.tf").read_text()
    # drop the statement that lets the 'local' executor write the features object
    cut = re.sub(r'\n  statement \{\n    sid += "WriteDataLake".*?\n  \}', "", main, count=1, flags=re.S)
    assert cut != main
    (out / "main.tf").write_text(cut)
    from glacier.terraform.rehearse.run import rehearse_folder

    failed = rehearse_folder(pipelines.ml_pipeline, out)
    assert not failed.passed
    last = failed.table().splitlines()[-1]
    assert last.startswith("rehearsal failed: task save")
    assert "AccessDenied" in last and "s3:PutObject" in last


def test_a_gcp_module_retargeted_to_aws_runs_with_the_aws_provider(aws_env, tmp_path):
    from tests.rehearse import gcp_pipelines

    result = rehearse(gcp_pipelines.gcp_etl, cloud="aws", out=tmp_path / "tf")
    assert result.passed, result.table()
    assert [t.status for t in result.tasks] == ["succeeded", "succeeded"]
    assert [what for what, _, _ in result.outputs] == [
        "returned by gcp_etl",
        "s3://reports/clean/data.parquet",  # the module says GCS: deployed, it is the S3 bucket
    ]
