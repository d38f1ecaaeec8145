"""One Provider class; the config decides; mismatches are clear errors."""

from __future__ import annotations

import importlib
from pathlib import Path

import polars as pl
import pytest

import glacier
from glacier import ConfigError, MissingDependencyError, Provider, StorageError
from glacier.clouds.registry import cloud_named, get_backend, registry
from glacier.config import (
    AwsConfig,
    AzureBlobConfig,
    AzureConfig,
    CloudFunctionConfig,
    DaskConfig,
    DatabricksConfig,
    EMRConfig,
    GcpConfig,
    GCSConfig,
    LambdaConfig,
    LocalConfig,
    S3Config,
    SparkConfig,
)
from glacier.errors import BucketPathError

SUB = "12345678-1234-1234-1234-123456789abc"


def test_public_surface_is_pinned():
    assert sorted(glacier.__all__) == sorted(
        [
            "Provider", "pipeline", "Pipeline", "GlacierError", "ConfigError", "DefinitionError",
            "MissingDependencyError", "PipelineError", "StorageError",
            "load_ipython_extension", "unload_ipython_extension", "__version__",
        ]
    )  # fmt: skip


@pytest.mark.parametrize("name", ["AWSProvider", "GCPProvider", "AzureProvider"])
def test_wrong_patterns_do_not_exist(name):
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("glacier.providers")
    assert not hasattr(glacier, name)
    assert not hasattr(glacier, "GlacierEnv")
    assert not callable(getattr(glacier, "task", None))  # no @task(executor="...")


def test_registry_is_keyed_by_config_type_and_read_only():
    assert set(registry) == {LocalConfig, AwsConfig, GcpConfig, AzureConfig}
    with pytest.raises(TypeError):
        registry[LocalConfig] = "x"  # type: ignore[index]
    assert get_backend(AwsConfig(region="us-east-1")).name == "aws"
    assert type(Provider(config=AwsConfig(region="us-east-1"))) is Provider
    assert Provider(config=GcpConfig(project_id="my-project")).cloud == "gcp"


def test_one_registry_names_backend_renderer_and_install_hint():
    for config_type, entry in registry.items():
        assert entry.load_backend().config_type is config_type
        assert entry.load_backend().name == entry.name
    for cloud in ("aws", "gcp", "azure"):
        entry = cloud_named(cloud)
        assert entry.hint == f'pip install "glacier-pipelines[{cloud}]"'
        assert entry.load_renderer().cloud == cloud
        assert entry.load_retarget().cloud == cloud
        assert callable(entry.load_package())
    with pytest.raises(ConfigError, match="Terraform renderer"):
        cloud_named("local").load_renderer()
    backend = get_backend(AwsConfig(region="us-east-1"))
    with pytest.raises(MissingDependencyError, match=r'pip install "glacier-pipelines\[aws\]"'):
        backend.require("glacier_no_such_module", "Reading and writing S3")


@pytest.mark.parametrize(
    ("config", "uri"),
    [
        (AwsConfig(region="us-east-1"), "s3://data/sales.parquet"),
        (GcpConfig(project_id="my-project"), "gs://data/sales.parquet"),
        (AzureConfig(subscription_id=SUB), "az://data/sales.parquet"),
    ],
)
def test_cloud_uris(config, uri):
    assert Provider(config=config).bucket(bucket="data", path="sales.parquet").get_uri() == uri


def test_local_uri_is_under_base_path(tmp_path):
    provider = Provider(config=LocalConfig(base_path=str(tmp_path)))
    bucket = provider.bucket(bucket="data", path="raw/sales.parquet")
    assert bucket.get_uri() == str(tmp_path / "data" / "raw" / "sales.parquet")


def test_provider_defaults_to_local():
    assert Provider().cloud == "local"
    with pytest.raises(ConfigError, match="LocalConfig, AwsConfig, GcpConfig or AzureConfig"):
        Provider(config=S3Config())  # type: ignore[arg-type]


def test_storage_config_must_match_the_cloud():
    with pytest.raises(ConfigError) as info:
        Provider(config=GcpConfig(project_id="my-project")).bucket(
            bucket="data", path="x.parquet", config=S3Config()
        )
    text = str(info.value)
    assert "S3Config" in text and "GcpConfig" in text and "GCSConfig" in text
    Provider(config=AzureConfig(subscription_id=SUB)).bucket(
        bucket="data", path="x.csv", config=AzureBlobConfig()
    )
    # the local provider keeps any cloud's storage config (re-targeting to Terraform)
    Provider(config=LocalConfig()).bucket(bucket="data", path="x.csv", config=GCSConfig())


def test_execution_config_must_match_cloud_and_kind():
    azure = Provider(config=AzureConfig(subscription_id=SUB))
    with pytest.raises(ConfigError) as info:
        azure.cluster(config=EMRConfig())
    assert "EMRConfig" in str(info.value) and "AzureConfig" in str(info.value)
    assert "DatabricksConfig" in str(info.value)
    aws = Provider(config=AwsConfig(region="us-east-1"))
    with pytest.raises(ConfigError, match=r"provider.serverless\(config=LambdaConfig"):
        aws.cluster(config=LambdaConfig())
    with pytest.raises(ConfigError, match="CloudFunctionConfig"):
        aws.serverless(config=CloudFunctionConfig())
    assert aws.cluster(config=SparkConfig()).config == SparkConfig()
    assert aws.cluster(config=DaskConfig()).engine == "dask"


def test_defaults_per_cloud():
    aws = Provider(config=AwsConfig(region="us-east-1"))
    assert type(aws.serverless().config).__name__ == "LambdaConfig"
    assert type(aws.vm().config).__name__ == "EC2Config"
    assert type(aws.cluster().config).__name__ == "EMRConfig"
    gcp = Provider(config=GcpConfig(project_id="my-project"))
    assert type(gcp.serverless().config).__name__ == "CloudFunctionConfig"
    assert type(gcp.cluster().config).__name__ == "DataprocConfig"
    az = Provider(config=AzureConfig(subscription_id=SUB))
    assert type(az.serverless().config).__name__ == "AzureFunctionConfig"
    assert type(az.cluster().config).__name__ == "DatabricksConfig"
    local = Provider()
    assert type(local.cluster().config).__name__ == "DaskConfig"
    assert local.local().kind == "local"
    assert local.serverless(config=LambdaConfig(memory=512)).engine == "cloud"


def test_executors_are_resources():
    provider = Provider()
    ex = provider.cluster(
        config=DatabricksConfig(cluster_id="cluster-123", instance_type="i3.xlarge", num_workers=4)
    )
    assert ex.kind == "cluster" and ex.provider is provider
    assert ex.config.num_workers == 4
    assert ex.name == "databricks"
    assert provider.cluster(config=DatabricksConfig()).name == "databricks_2"

    @ex.task()
    def score(df):
        return df

    assert ex.tasks == (score,)
    assert provider.executors[0] is ex


@pytest.mark.parametrize(
    ("config", "name"),
    [
        (AwsConfig(region="us-east-1"), "Bad_Name"),
        (AwsConfig(region="us-east-1"), "ab"),
        (AwsConfig(region="us-east-1"), "my..bucket"),
        (AwsConfig(region="us-east-1"), "192.168.1.1"),
        (GcpConfig(project_id="my-project"), "google-data"),
        (AzureConfig(subscription_id=SUB), "my_container"),
        (AzureConfig(subscription_id=SUB), "double--hyphen"),
        (LocalConfig(), "a/b"),
    ],
)
def test_bucket_names_are_checked_when_declared(config, name):
    with pytest.raises(ConfigError, match="bucket name"):
        Provider(config=config).bucket(bucket=name, path="x.parquet")


@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/passwd", "a/../../b.csv", "C:/x.csv", "s3://x/y"])
def test_bucket_paths_cannot_escape(local_provider, path):
    with pytest.raises(BucketPathError):
        local_provider.bucket(bucket="data", path=path)


def test_local_bucket_roundtrip_all_formats(local_provider):
    df = pl.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    for suffix in ("parquet", "csv", "ndjson", "ipc", "feather", "arrow", "jsonl"):
        bucket = local_provider.bucket(bucket="data", path=f"t/frame.{suffix}")
        assert not bucket.exists()
        bucket.write(df)
        assert bucket.exists()
        assert bucket.read().equals(df)
        bucket.write(df.lazy().filter(pl.col("a") > 1))  # lazy frames stream to disk
        assert bucket.scan().collect().height == 2


def test_unknown_suffix_and_missing_object(local_provider):
    with pytest.raises(StorageError, match=r"\.xlsx"):
        local_provider.bucket(bucket="data", path="t.xlsx").scan()
    missing = local_provider.bucket(bucket="data", path="nope.parquet")
    with pytest.raises(StorageError, match="nope.parquet"):
        missing.scan()
    with pytest.raises(StorageError, match="DataFrame or LazyFrame"):
        missing.write([1, 2, 3])  # type: ignore[arg-type]


def test_failed_write_leaves_old_file_and_no_partial(local_provider):
    bucket = local_provider.bucket(bucket="data", path="t.parquet")
    bucket.write(pl.DataFrame({"a": [1, 2]}))
    bad = pl.LazyFrame({"a": ["1", "x"]}).select(pl.col("a").cast(pl.Int64, strict=True))
    with pytest.raises(pl.exceptions.InvalidOperationError):
        bucket.write(bad)
    assert bucket.read()["a"].to_list() == [1, 2]
    assert sorted(p.name for p in Path(bucket.get_uri()).parent.iterdir()) == ["t.parquet"]


def test_failed_lazy_writes_never_leave_temporary_files(local_provider):
    # polars' sinks can create their file just after raising: the staging folder must absorb it
    bucket = local_provider.bucket(bucket="data", path="t.parquet")
    bucket.write(pl.DataFrame({"a": [1]}))
    bad = pl.LazyFrame({"a": ["1", "x"]}).select(pl.col("a").cast(pl.Int64, strict=True))
    for _ in range(100):
        with pytest.raises(pl.exceptions.InvalidOperationError):
            bucket.write(bad)
    assert sorted(p.name for p in Path(bucket.get_uri()).parent.iterdir()) == ["t.parquet"]
