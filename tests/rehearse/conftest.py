"""moto with IAM enforced: the rehearsal's own identity is an administrator created in the
three requests moto lets through unauthenticated; every task then runs as an IAM user that
holds exactly its generated policy."""

from __future__ import annotations

import json

import boto3
import polars as pl
import pytest

from tests.servers import start_s3

INPUT = pl.DataFrame({"id": [1, 2, 3, 4, 5], "value": [1.5, None, 3.0, None, 7.25]})


@pytest.fixture(scope="module")
def moto_iam():
    with start_s3(auth=True, free_actions=3) as s3:
        iam = boto3.client("iam", endpoint_url=s3.endpoint, region_name="us-east-1",
                           aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")  # fmt: skip
        iam.create_user(UserName="rehearsal-admin")
        iam.put_user_policy(
            UserName="rehearsal-admin",
            PolicyName="all",
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
            ),
        )
        key = iam.create_access_key(UserName="rehearsal-admin")["AccessKey"]
        env = {
            **s3.env,
            "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        }
        yield env


@pytest.fixture
def aws_env(moto_iam, monkeypatch):
    """This process pointed at moto as the administrator, with the input data written."""
    for name, value in moto_iam.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GLACIER_PROGRESS", "0")
    s3 = boto3.client("s3")
    for bucket in ("data-lake", "reports"):
        try:
            s3.create_bucket(Bucket=bucket)
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass
    from tests.rehearse import pipelines

    pipelines.raw_data.write(INPUT)
    return moto_iam
