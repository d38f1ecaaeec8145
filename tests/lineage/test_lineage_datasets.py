"""Dataset names by the OpenLineage naming spec, and the design document's Example 1.

The names are checked against the OpenLineage client's own naming classes
(``openlineage.client.naming.dataset``), and Example 1 runs as a script in a fresh process,
on the local disk and on S3 (moto), sending its events to a receiver on 127.0.0.1.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from openlineage.client.naming import dataset as spec

from glacier import Provider
from glacier.config import AwsConfig, AzureConfig, GcpConfig, LocalConfig
from glacier.lineage.naming import DatasetId, common_folder, from_bucket, from_uri
from tests.helpers import EXAMPLES, child_env
from tests.lineage.support import Receiver
from tests.servers import AZURITE_KEY, ServerUnavailable, start_s3


def _spec(naming: object) -> DatasetId:
    return DatasetId(naming.get_namespace(), naming.get_name())  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://lake/raw/events.parquet", spec.S3(bucket_name="lake", object_key="raw/events.parquet")),
        ("gs://lake/raw/events.parquet", spec.GCS(bucket_name="lake", object_key="raw/events.parquet")),
        ("/data/lake/events.parquet", spec.LocalFileSystem(path="/data/lake/events.parquet")),
        ("file:///data/lake/events.parquet", spec.LocalFileSystem(path="/data/lake/events.parquet")),
        (
            "abfss://lake@acct.dfs.core.windows.net/raw/events.parquet",
            spec.ABFSS(container="lake", service="acct", path="raw/events.parquet"),
        ),
    ],
)
def test_names_are_the_clients_names(uri: str, expected: object) -> None:
    assert from_uri(uri) == _spec(expected)


def test_azure_blob_is_wasbs_with_the_account() -> None:
    expected = spec.WASBS(container="lake", service_name="acct", object_key="raw/e.parquet")
    assert from_uri("az://lake/raw/e.parquet", azure_account="acct") == _spec(expected)
    assert from_uri("az://lake/raw/e.parquet") is None  # no account, no name: never a made-up one


def test_buckets_of_every_cloud(tmp_path: Path) -> None:
    local = Provider(config=LocalConfig(base_path=str(tmp_path)))
    assert from_bucket(local.bucket(bucket="lake", path="raw/e.parquet")) == DatasetId(
        "file", str(tmp_path / "lake" / "raw" / "e.parquet")
    )
    aws = Provider(config=AwsConfig(region="eu-west-1"))
    assert from_bucket(aws.bucket(bucket="lake", path="events")) == DatasetId("s3://lake", "events")
    gcp = Provider(config=GcpConfig(project_id="proj-123"))
    assert from_bucket(gcp.bucket(bucket="lake", path="logs/*.csv")) == DatasetId("gs://lake", "logs/*.csv")
    connection = (
        f"DefaultEndpointsProtocol=http;AccountName=glacierdata;AccountKey={AZURITE_KEY};"
        "BlobEndpoint=http://127.0.0.1:10000/glacierdata;"
    )
    azure = Provider(config=AzureConfig(connection_string=connection))
    assert from_bucket(azure.bucket(bucket="lake", path="raw/e.parquet")) == DatasetId(
        "wasbs://lake@glacierdata.dfs.core.windows.net", "raw/e.parquet"
    )


def test_one_scan_of_many_files_is_one_dataset() -> None:
    files = ["s3://lake/events/year=2024/p0.parquet", "s3://lake/events/year=2025/p0.parquet"]
    assert from_uri(common_folder(files)) == DatasetId("s3://lake", "events")


def _example1(cwd: Path, source: str, env: dict[str, str]) -> None:
    script = cwd / "example1.py"
    script.write_text(source)
    subprocess.run(
        [sys.executable, str(script)], cwd=cwd, env=child_env(**env), check=True, capture_output=True
    )


def _datasets(event: dict, side: str) -> list[tuple[str, str]]:
    return [(d["namespace"], d["name"]) for d in event[side]]


def _check_example1(got: Receiver, source: tuple[str, str]) -> None:
    memory = "glacier://glacier"
    assert (got.events[0]["job"]["name"], got.events[0]["eventType"]) == ("simple", "START")
    assert got.types("simple") == ["START", "COMPLETE"]
    assert _datasets(got.final("simple"), "inputs") == [source]
    assert _datasets(got.final("simple"), "outputs") == [(memory, "simple.transform")]
    assert _datasets(got.final("simple.load"), "inputs") == [source]
    assert _datasets(got.final("simple.load"), "outputs") == [(memory, "simple.load")]
    assert _datasets(got.final("simple.transform"), "inputs") == [(memory, "simple.load")]
    assert _datasets(got.final("simple.transform"), "outputs") == [(memory, "simple.transform")]
    lineage = got.final("simple")["outputs"][0]["facets"]["columnLineage"]
    assert {
        name: [(f["namespace"], f["name"], f["field"]) for f in v["inputFields"]]
        for name, v in lineage["fields"].items()
    } == {
        "id": [(*source, "id")],
        "value": [(*source, "value")],
    }
    assert [(f["namespace"], f["name"], f["field"]) for f in lineage["dataset"]] == [(*source, "value")]


def test_example1_on_the_local_disk(receiver: Receiver, tmp_path: Path) -> None:
    work = tmp_path / "ex1"
    work.mkdir()
    _example1(work, (EXAMPLES / "example1_simple.py").read_text(), {"OPENLINEAGE_URL": receiver.url})
    _check_example1(receiver, ("file", str(work / "data" / "data" / "input.parquet")))


def test_example1_on_s3(receiver: Receiver, tmp_path: Path) -> None:
    text = (EXAMPLES / "example1_simple.py").read_text()
    line = 'provider = Provider(config=LocalConfig(base_path="./data"))'
    assert line in text
    text = text.replace(line, 'provider = Provider(config=AwsConfig(region="us-east-1"))').replace(
        "from glacier.config import LocalConfig", "from glacier.config import AwsConfig"
    )
    try:
        s3 = start_s3()
    except ServerUnavailable as exc:
        pytest.fail(f"moto's S3 server is needed: {exc}", pytrace=False)
    with s3:
        s3.create_bucket("data")
        work = tmp_path / "ex1s3"
        work.mkdir()
        _example1(work, text, {**s3.env, "OPENLINEAGE_URL": receiver.url})
    _check_example1(receiver, ("s3://data", "input.parquet"))
