"""Property tests: bucket paths never escape the bucket (or ``base_path``); URIs round-trip."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glacier import ConfigError, Provider
from glacier.config import AwsConfig, AzureConfig, GcpConfig, LocalConfig
from glacier.errors import BucketPathError
from glacier.storage.paths import check_bucket_path

SEGMENTS = st.one_of(
    st.sampled_from(
        ["", ".", "..", "...", "a", "b c", "~", "x.parquet", "%2e%2e", "C:", "c:", "\\", "..\\..", "s3:", "*"]
    ),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=6),
)
PATHS = st.lists(SEGMENTS, max_size=8).flatmap(
    lambda parts: st.sampled_from(["/", "\\", "//"]).map(lambda sep: sep.join(parts))
)
CLOUDS = [
    (AwsConfig(region="us-east-1"), "s3"),
    (GcpConfig(project_id="my-project"), "gs"),
    (AzureConfig(storage_account="glacierdata"), "az"),
]
DRIVE = re.compile(r"^[A-Za-z]:")
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(path=PATHS)
def test_checked_path_is_normalised_and_inside(path):
    try:
        clean = check_bucket_path(path)
    except BucketPathError as exc:
        assert repr(path) in str(exc)
        return
    assert not clean.startswith("/")
    parts = clean.split("/") if clean else []
    assert all(p not in ("", ".", "..") for p in parts), clean
    assert "\\" not in clean
    # the same location as the raw path, read relative to a bucket root
    root = "/bucket-root"
    assert os.path.normpath(os.path.join(root, path.replace("\\", "/"))) == os.path.normpath(
        os.path.join(root, clean)
    )


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    base = tmp_path_factory.mktemp("base")
    return Provider(config=LocalConfig(base_path=str(base))), base.resolve()


@SETTINGS
@given(path=PATHS, sub=PATHS, bucket=st.sampled_from(["data", "my-bucket", "_x", "a.b"]))
def test_local_uris_stay_under_base_path(local, path, sub, bucket):
    provider, base = local
    try:
        resource = provider.bucket(bucket=bucket, path=path)
    except BucketPathError:
        return
    uri = Path(resource.get_uri())
    assert uri.is_absolute()
    inside = (base / bucket).resolve()
    assert uri == inside or inside in uri.parents
    # round trip: the relative part gives the same bucket back
    rel = uri.relative_to(inside).as_posix()
    assert provider.bucket(bucket=bucket, path="" if rel == "." else rel).get_uri() == str(uri)
    try:
        below = resource / sub
    except BucketPathError:
        return
    assert Path(below.get_uri()) == inside or inside in Path(below.get_uri()).parents


@SETTINGS
@given(
    path=PATHS,
    cloud=st.sampled_from(range(len(CLOUDS))),
    bucket=st.sampled_from(["data", "my-bucket", "a1b2"]),
)
def test_cloud_uris_round_trip(path, cloud, bucket):
    config, scheme = CLOUDS[cloud]
    provider = Provider(config=config)
    try:
        resource = provider.bucket(bucket=bucket, path=path)
    except BucketPathError:
        return
    uri = resource.get_uri()
    parts = urlsplit(uri) if "#" not in uri and "?" not in uri else None
    assert uri.startswith(f"{scheme}://{bucket}")
    rest = uri[len(f"{scheme}://{bucket}") :]
    assert rest == "" or rest.startswith("/")
    assert ".." not in rest.split("/")
    assert not DRIVE.match(resource.path)
    if parts is not None:
        assert parts.scheme == scheme and parts.netloc == bucket
    again = provider.bucket(bucket=bucket, path=rest.lstrip("/"))
    assert again.get_uri() == uri and again.path == resource.path


@SETTINGS
@given(name=st.text(max_size=70), cloud=st.sampled_from(range(len(CLOUDS) + 1)))
def test_bucket_names_are_checked(name, cloud, tmp_path_factory):
    config = CLOUDS[cloud][0] if cloud < len(CLOUDS) else LocalConfig(base_path="/tmp/glacier-names")
    provider = Provider(config=config)
    try:
        resource = provider.bucket(bucket=name, path="x.parquet")
    except ConfigError as exc:
        assert repr(name) in str(exc)
        return
    assert "/" not in name and "\\" not in name and name not in (".", "..") and name.strip() == name
    assert name in resource.get_uri()


@pytest.mark.parametrize("path", ["./C:", "a/../C:/x.parquet", "./d:/e"])
def test_normalised_path_is_accepted_again(path):
    """Found here: './C:' normalised to 'C:', which was then refused as absolute (fixed in 6cea1e9)."""
    try:
        clean = check_bucket_path(path)
    except BucketPathError:
        return  # refusing it outright is fine too
    assert check_bucket_path(clean) == clean
