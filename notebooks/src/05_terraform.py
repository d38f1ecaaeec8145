# %% [markdown]
# # 05 · Terraform: infrastructure from the pipeline, on AWS, GCP and Azure
#
# **What it shows.** The design document's *Example 2* on AWS becomes a folder of Terraform:
# buckets with their storage config (encryption, versioning, public access blocked), a
# function or cluster per executor, an identity per executor whose permissions reach only the
# objects its own tasks read and write, and an orchestrator that runs the DAG. The same
# pipeline is then re-targeted to Google Cloud and Azure without touching its code, and the
# least-privilege policies of each cloud are shown side by side.
#
# **How to run it.** `.venv/bin/jupyter lab notebooks/05_terraform.ipynb` (after `make test`
# once, which installs the `glacier` kernel), then *Run All*. Nothing is deployed and no cloud
# account is needed: the notebook only writes `.tf` files under `./infra/`. To deploy, run
# `terraform init && terraform apply` in one of those folders with your cloud credentials.

# %%
import re

import polars as pl

from glacier import Provider, pipeline
from glacier.config import AwsConfig, DatabricksConfig, LambdaConfig, S3Config
from glacier.terraform import render

%load_ext glacier

# %% [markdown]
# ## The pipeline, as in the design document

# %%
provider = Provider(config=AwsConfig(region="us-east-1"))

local_exec = provider.local()
lambda_exec = provider.serverless(config=LambdaConfig(memory=1024, timeout=300))
databricks_exec = provider.cluster(config=DatabricksConfig(cluster_id="cluster-123", num_workers=4))

raw_data = provider.bucket(bucket="data-lake", path="raw/data.parquet",
                           config=S3Config(versioning=True, encryption="AES256"))
features = provider.bucket(bucket="data-lake", path="features/features.parquet")


@local_exec.task()
def extract(source) -> pl.LazyFrame:
    return source.scan()


@lambda_exec.task()
def clean(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.filter(pl.col("value").is_not_null())


@databricks_exec.task()
def ml_predict(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.with_columns(pl.lit(0.9).alias("prediction"))


@local_exec.task()
def save(df: pl.LazyFrame) -> None:
    features.write(df)


@pipeline(name="ml_inference")
def ml_pipeline():
    data = extract(raw_data)
    cleaned = clean(data)
    predictions = ml_predict(cleaned)
    save(predictions)
    return predictions


%glacier dag ml_pipeline

# %% [markdown]
# ## Terraform for AWS
#
# `%glacier export terraform` (or `glacier.terraform.export(pipeline, dir)`, or
# `glacier terraform MODULE:PIPELINE --out DIR` from a shell) writes the folder. The cloud is
# the provider's: `AwsConfig` gives S3, Lambda, Databricks on AWS, IAM roles and a Step
# Functions state machine.

# %%
%glacier export terraform ml_pipeline infra/aws

# %% [markdown]
# `render()` gives the same files as text. A small helper pulls one top-level block out of
# `main.tf`, and another lists the kinds of resource generated:

# %%
aws = render(ml_pipeline)


def block(tf: str, header: str) -> str:
    """The top-level block of ``tf`` whose first line starts with ``header``."""
    start = tf.index(header)
    end = tf.index("\n}\n", start) + 2
    return tf[start:end]


def resource_types(tf: str) -> list[str]:
    return sorted(set(re.findall(r'^resource "(\w+)"', tf, flags=re.M)))


print(sorted(aws))
print(resource_types(aws["main.tf"]))

# %% [markdown]
# ### Secure storage
#
# The bucket gets its `S3Config` (versioning, SSE) and a public access block:

# %%
print(block(aws["main.tf"], 'resource "aws_s3_bucket_public_access_block" "data_lake"'))
print(block(aws["main.tf"], 'resource "aws_s3_bucket_versioning" "data_lake"'))

# %% [markdown]
# ### Least privilege
#
# Each executor has its own role. The `local` executor's tasks (`extract`, `save`) read
# `raw/data.parquet` and write `features/features.parquet`, so its policy names exactly those
# object keys, and `raw/data.parquet`, which they only read, gets no write statement. No
# action or resource is `*`:

# %%
print(block(aws["main.tf"], 'data "aws_iam_policy_document" "local"'))

# %% [markdown]
# The Lambda's task (`clean`) gets its input from the task before it, not from a bucket: its
# role has no access to `data-lake` at all (only to its code, the hand-over area between tasks,
# its logs and its dead-letter queue):

# %%
print(block(aws["main.tf"], 'data "aws_iam_policy_document" "lambda"'))

# %% [markdown]
# ### The orchestrator
#
# A Step Functions state machine runs the tasks in graph order (a cluster task is started,
# then polled until its run ends):

# %%
sfn = block(aws["main.tf"], 'resource "aws_sfn_state_machine" "ml_inference"')
re.findall(r'^      (\w+) = \{\n        Type\s+= "(\w+)"', sfn, flags=re.M)

# %% [markdown]
# ## The same pipeline, re-targeted to Google Cloud and Azure
#
# `cloud=` maps each config to its equivalent: Lambda to Cloud Functions or Azure Functions,
# Databricks to Databricks on that cloud, S3 to Cloud Storage or a storage container. The
# pipeline's code does not change.

# %%
%glacier export terraform ml_pipeline infra/gcp --cloud gcp

# %%
%glacier export terraform ml_pipeline infra/azure --cloud azure

# %%
gcp = render(ml_pipeline, cloud="gcp")
azure = render(ml_pipeline, cloud="azure")
KEY = ("bucket", "function", "function_app", "state_machine", "workflow", "container", "service_account", "identity")
for name, files in (("aws", aws), ("gcp", gcp), ("azure", azure)):
    types = resource_types(files["main.tf"])
    print(f"{name:6}", len(types), "resource types, e.g.", ", ".join(t for t in types if t.endswith(KEY)))

# %% [markdown]
# ### Least privilege on each cloud
#
# The `local` executor's read access to `raw/data.parquet`: on GCP an IAM condition on the
# object name prefix, on Azure an ABAC condition on the blob path.

# %%
print(block(gcp["main.tf"], 'resource "google_storage_bucket_iam_member" "local_data_lake_read"'))

# %%
print(block(azure["main.tf"], 'resource "azurerm_role_assignment" "local_data_lake_read"'))

# %% [markdown]
# ## Secrets never reach the files
#
# Secrets are `SecretStr` in the configs (`DatabricksConfig(token=...)`, provider credentials).
# Terraform gets a `sensitive` variable with no default instead of a value:

# %%
print(block(aws["variables.tf"], 'variable "databricks_token"'))

# %% [markdown]
# More: [docs/terraform.md](../docs/terraform.md) (what each cloud gets, the checkov scan, the
# limits).
