"""Amazon Web Services: S3 storage, Lambda, EC2, EMR."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

from glacier.clouds.backend import ObjectStore, Services
from glacier.config.execution import EC2Config, EMRConfig, LambdaConfig
from glacier.config.providers import AwsConfig
from glacier.config.storage import S3Config, StorageConfig
from glacier.errors import ConfigError
from glacier.storage.errors import Hints

if TYPE_CHECKING:
    from glacier.storage.upload import Upload

__all__ = ["AwsBackend"]

#: Connect fast, fail fast on an unreachable endpoint, retry transient 5xx/resets.
_BOTO_CONFIG: dict[str, Any] = {
    "connect_timeout": 5,
    "read_timeout": 60,
    "retries": {"max_attempts": 3, "mode": "standard"},
}


class AwsBackend(ObjectStore[AwsConfig]):
    """S3 through s3fs (polars reads it natively); multipart uploads with parts in parallel."""

    scheme = "s3"
    bucket_pattern = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
    bucket_rule = (
        "3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit"
    )
    services = Services(S3Config, LambdaConfig, EC2Config, EMRConfig)

    def _extra_bucket_checks(self, bucket: str) -> None:
        if (
            ".." in bucket
            or re.fullmatch(r"\d+\.\d+\.\d+\.\d+", bucket)
            or bucket.startswith("xn--")
            or bucket.endswith("-s3alias")
        ):
            raise ConfigError(
                f"bucket name {bucket!r} is not valid on Amazon S3: no '..', no IP address form, "
                "no 'xn--' prefix or '-s3alias' suffix (for example 'my-data')"
            )

    def _endpoint(self, storage: StorageConfig | None) -> str | None:
        endpoint = getattr(storage, "endpoint_url", None) or self.config.endpoint_url
        return endpoint or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")

    def _credentials(self) -> dict[str, str]:
        cfg = self.config
        out: dict[str, str] = {}
        for field, key in (
            ("access_key_id", "key"),
            ("secret_access_key", "secret"),
            ("session_token", "token"),
        ):
            value = getattr(cfg, field)
            if value is not None:
                out[key] = value.get_secret_value()
        return out

    def filesystem(self, storage: StorageConfig | None) -> Any:
        s3fs = self.require("s3fs", "Reading and writing S3")
        kwargs: dict[str, Any] = self._credentials()
        client: dict[str, Any] = {"region_name": self.config.region}
        endpoint = self._endpoint(storage)
        if endpoint:
            kwargs["endpoint_url"] = endpoint
        if self.config.profile:
            kwargs["profile"] = self.config.profile
        fs = s3fs.S3FileSystem(client_kwargs=client, config_kwargs=dict(_BOTO_CONFIG), **kwargs)
        fs.retries = 2  # s3fs retries botocore's retries (5 x 4 by default): keep failures fast
        return fs

    def preflight(self) -> None:
        """Fail in seconds on a dead endpoint, before botocore's and s3fs' retries."""
        from glacier.storage.reach import check_reachable

        check_reachable(self._endpoint(None) or f"https://s3.{self.config.region}.amazonaws.com")

    def hints(self, storage: StorageConfig | None) -> Hints:
        return Hints(
            credentials="AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE, "
            "or AwsConfig(access_key_id=..., secret_access_key=..., profile=...)",
            endpoint=f"the endpoint ({self._endpoint(storage) or 'AWS default'}; AWS_ENDPOINT_URL or "
            "AwsConfig(endpoint_url=...))",
            secrets=tuple(self._credentials().values()),
        )

    def storage_options(self, storage: StorageConfig | None) -> dict[str, Any] | None:
        opts: dict[str, Any] = {"aws_region": self.config.region}
        names = {"key": "aws_access_key_id", "secret": "aws_secret_access_key", "token": "aws_session_token"}
        for key, value in self._credentials().items():
            opts[names[key]] = value
        endpoint = self._endpoint(storage)
        if endpoint:
            opts["aws_endpoint_url"] = endpoint
            if endpoint.startswith("http://"):
                opts["aws_allow_http"] = "true"
        if self.config.profile:
            opts["aws_profile"] = self.config.profile
        opts["max_retries"] = 2
        return opts

    def upload_options(self, storage: StorageConfig | None) -> dict[str, Any]:
        """Server-side encryption and storage class from ``S3Config``, set on every object."""
        if not isinstance(storage, S3Config):
            return {}
        extra: dict[str, Any] = {"ServerSideEncryption": storage.encryption}
        if storage.encryption == "aws:kms" and storage.kms_key_id:
            extra["SSEKMSKeyId"] = storage.kms_key_id
        if storage.storage_class != "STANDARD":
            extra["StorageClass"] = storage.storage_class
        return extra

    def open_upload(self, fs: Any, uri: str, storage: StorageConfig | None) -> Upload:
        """A multipart upload with parts sent in parallel (one PUT when small)."""
        from glacier.clouds.aws.upload import S3Upload

        return S3Upload(fs, uri, self.upload_options(storage))
