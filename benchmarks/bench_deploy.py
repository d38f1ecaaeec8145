"""Benchmark: deployment packages and the AWS rehearsal of Example 2 (without Databricks).

- package build with a warm pip cache (the second of two builds into fresh folders), and the
  layer's size against Lambda's 250 MB unpacked limit;
- the rehearsal on moto with IAM enforced against ``run(mode="local")`` on the same storage
  (target: executing the states <= 10x the local run, process start-ups included).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MB = 1024 * 1024


def _admin(endpoint: str) -> dict[str, str]:
    import boto3

    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")  # fmt: skip
    iam.create_user(UserName="bench-admin")
    iam.put_user_policy(
        UserName="bench-admin",
        PolicyName="all",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )
    key = iam.create_access_key(UserName="bench-admin")["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def main() -> list[dict]:
    import boto3
    import polars as pl

    from glacier.terraform.packaging import build_packages
    from glacier.terraform.plan import build_plan
    from glacier.terraform.rehearse import rehearse
    from tests.rehearse import pipelines
    from tests.servers import start_s3

    rows = []
    plan = build_plan(pipelines.ml_pipeline)
    with tempfile.TemporaryDirectory() as tmp:
        build_packages(plan, Path(tmp) / "cold")  # fills pip's cache
        started = time.perf_counter()
        report = build_packages(plan, Path(tmp) / "warm")
        build_s = time.perf_counter() - started
    layer = report.artifacts[0]
    print(report.summary())
    rows.append({"name": "package build, Example 2 on AWS (warm pip cache)", "value": round(build_s, 1),
                 "unit": "s", "target": "report", "ok": True})  # fmt: skip
    rows.append({"name": "Lambda layer unpacked", "value": round(layer.unpacked / MB, 1),
                 "unit": "MB", "target": "<= 250", "ok": layer.unpacked <= 250 * MB})  # fmt: skip
    rows.append({"name": "Lambda layer zipped", "value": round(layer.zipped / MB, 1), "unit": "MB",
                 "target": "report (> 50: uploaded through S3)", "ok": True})  # fmt: skip

    with start_s3(auth=True, free_actions=3) as s3, tempfile.TemporaryDirectory() as tmp:
        saved = dict(os.environ)
        os.environ.update({**s3.env, **_admin(s3.endpoint)})
        try:
            client = boto3.client("s3")
            client.create_bucket(Bucket="data-lake")
            pipelines.raw_data.write(
                pl.DataFrame({"id": list(range(1000)), "value": [float(i) for i in range(1000)]})
            )
            result = rehearse(pipelines.ml_pipeline, out=Path(tmp) / "tf")
            print(result.table())
            started = time.perf_counter()
            pipelines.ml_pipeline.run(mode="local", progress=False)
            local_s = time.perf_counter() - started
        finally:
            os.environ.clear()
            os.environ.update(saved)
    ratio = result.seconds / local_s
    rows.append({"name": "rehearsal: states executed (3 task processes)", "value": round(result.seconds, 2),
                 "unit": "s", "target": "report", "ok": result.passed})  # fmt: skip
    rows.append({"name": "rehearsal: data plane applied (buckets, layer upload, IAM)",
                 "value": round(result.apply_seconds, 2), "unit": "s", "target": "report", "ok": True})  # fmt: skip
    rows.append({"name": "run(mode='local') on moto", "value": round(local_s, 2), "unit": "s",
                 "target": "report", "ok": True})  # fmt: skip
    rows.append({"name": "rehearsal execution / local run", "value": round(ratio, 1), "unit": "x",
                 "target": "<= 10", "ok": ratio <= 10})  # fmt: skip
    return rows


if __name__ == "__main__":
    for row in main():
        print(row)
