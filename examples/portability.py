"""The design document's portability snippet, run as written, then used.

``GLACIER_CLOUD`` picks the provider (local, aws, gcp, azure); nothing else changes.
Credentials and endpoints come from each cloud's standard variables
(``AWS_ENDPOINT_URL``, ``STORAGE_EMULATOR_HOST``, ``AZURE_STORAGE_CONNECTION_STRING`` ...).
"""

import os

from glacier import Provider
from glacier.config import AwsConfig, AzureConfig, GcpConfig, LocalConfig


# Dynamic provider selection
def create_provider():
    cloud = os.getenv("GLACIER_CLOUD", "local")

    if cloud == "aws":
        return Provider(config=AwsConfig(region="us-east-1"))
    elif cloud == "azure":
        return Provider(config=AzureConfig(...))
    elif cloud == "gcp":
        return Provider(config=GcpConfig(...))
    else:
        return Provider(config=LocalConfig(base_path="./data"))


provider = create_provider()

# Rest of code is IDENTICAL regardless of provider!
local_exec = provider.local()
bucket = provider.bucket(bucket="data", path="file.parquet")


@local_exec.task()
def process(source):
    return source.scan()


# Works on AWS S3, Azure Blob, GCS, or local filesystem!

# --- using it (not part of the design document's snippet) ---------------------------
if __name__ == "__main__":
    import polars as pl

    from glacier import pipeline

    bucket.write(pl.DataFrame({"id": [1, 2, 3, 4], "value": [10.0, -2.5, 7.25, 0.0]}))

    @pipeline(name="portable")
    def portable():
        return process(bucket)

    result = portable.run(mode="local", progress=False)
    print(f"cloud={provider.cloud} uri={bucket.get_uri()}")
    print(result.collect())
