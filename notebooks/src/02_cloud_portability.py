# %% [markdown]
# # 02 · Cloud portability: the same pipeline on the local disk and on S3
#
# **What it shows.** Switching cloud means changing the provider's config object and nothing
# else. One function builds the resources, tasks and pipeline for *any* provider; we run it on
# `LocalConfig`, then on Amazon S3 — here moto's S3 server, which this notebook starts itself
# on `127.0.0.1` so it runs anywhere (Binder included) — and get the same result. The last
# section shows the configs for real AWS, Google Cloud Storage and Azure Blob Storage.
#
# **How to run it.** `.venv/bin/jupyter lab notebooks/02_cloud_portability.ipynb` (after
# `make test` once, which installs the `glacier` kernel and the `aws` extra), then *Run All*.
# No cloud account is needed: nothing leaves this machine.

# %%
import polars as pl

from glacier import Provider, pipeline
from glacier.config import AwsConfig, LocalConfig, S3Config

# %% [markdown]
# ## One definition, any provider
#
# Nothing in `build` knows which cloud it is on: the provider creates the executor and the
# buckets, and `bucket.scan()` / `bucket.write()` work the same on every backend.

# %%
SAMPLE = pl.DataFrame({"id": [1, 2, 3, 4, 5, 6], "value": [3, -1, 0, 8, 5, -4]})


def build(provider: Provider):
    local_exec = provider.local()
    raw = provider.bucket(bucket="glacier-demo", path="raw/input.parquet")
    clean = provider.bucket(bucket="glacier-demo", path="clean/positive.parquet")
    raw.write(SAMPLE)  # sample input, so the pipeline has something to read

    @local_exec.task()
    def load(source) -> pl.LazyFrame:
        return source.scan()

    @local_exec.task()
    def positive(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.filter(pl.col("value") > 0).with_columns(doubled=pl.col("value") * 2)

    @local_exec.task()
    def publish(df: pl.LazyFrame) -> int:
        clean.write(df)
        return clean.read().height

    @pipeline(name="portable")
    def portable():
        data = positive(load(raw))
        return {"rows_published": publish(data), "data": data}

    return portable, clean

# %% [markdown]
# ## On the local disk

# %%
local = Provider(config=LocalConfig(base_path="./data"))
local_pipeline, local_out = build(local)

local_result = local_pipeline.run(mode="local")
local_result["rows_published"], local_out.get_uri().endswith("data/glacier-demo/clean/positive.parquet")

# %% [markdown]
# ## On S3 (moto's server, started here)
#
# `ThreadedMotoServer` implements the S3 API on a free port of `127.0.0.1`. We create the
# bucket, then hand its endpoint and (fake) credentials to `AwsConfig`. Credentials are
# `SecretStr`: the provider's repr masks them.

# %%
import logging

import boto3
from moto.server import ThreadedMotoServer

logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no request log in the notebook
s3_server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
s3_server.start()
host, port = s3_server.get_host_and_port()
endpoint = f"http://{host}:{port}"

boto3.client(
    "s3", endpoint_url=endpoint, region_name="us-east-1",
    aws_access_key_id="testing", aws_secret_access_key="testing",
).create_bucket(Bucket="glacier-demo")

aws = Provider(
    config=AwsConfig(
        region="us-east-1",
        endpoint_url=endpoint,
        access_key_id="testing",
        secret_access_key="testing",
    )
)
aws

# %% [markdown]
# The very same `build`, on the S3 provider:

# %%
s3_pipeline, s3_out = build(aws)
s3_result = s3_pipeline.run(mode="local")
s3_result["rows_published"], s3_out.get_uri()

# %% [markdown]
# ## Same result

# %%
assert s3_result["data"].collect().equals(local_result["data"].collect())
assert s3_out.read().equals(local_out.read())
s3_out.read()

# %% [markdown]
# Storage options such as encryption, versioning or the storage class go in a storage config
# for the bucket; a config for another cloud is refused with an error naming both.

# %%
archive = aws.bucket(
    bucket="glacier-demo",
    path="archive/positive.parquet",
    config=S3Config(storage_class="STANDARD_IA", encryption="AES256", versioning=True),
)
archive

# %%
s3_server.stop()

# %% [markdown]
# ## Pointing it at real clouds
#
# Only the provider's config changes; `build(provider)` stays as it is. Unset fields follow
# each cloud's standard credential chain, so on a machine that is logged in nothing secret
# appears in the notebook:
#
# ```python
# from glacier.config import AwsConfig, GcpConfig, AzureConfig
#
# # AWS: AWS_PROFILE / AWS_ACCESS_KEY_ID / instance role; buckets are s3://...
# provider = Provider(config=AwsConfig(region="eu-west-1"))
#
# # Google Cloud Storage: Application Default Credentials (gcloud auth application-default login)
# provider = Provider(config=GcpConfig(project_id="my-project"))
#
# # Azure Blob Storage: AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY or a connection string
# provider = Provider(config=AzureConfig(subscription_id="00000000-0000-0000-0000-000000000000",
#                                        storage_account="glacierdata"))
#
# portable, out = build(provider)
# portable.run(mode="local")
# ```
#
# Each needs its extra: `pip install "glacier-pipelines[aws]"`, `"glacier-pipelines[gcp]"` or `"glacier-pipelines[azure]"`.
# The design document's pattern of choosing the cloud from an environment variable
# (`GLACIER_CLOUD=aws|gcp|azure|local`) is `examples/portability.py`; the storage guide is
# [docs/storage.md](../docs/storage.md).
