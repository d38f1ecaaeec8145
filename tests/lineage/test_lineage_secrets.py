"""Secret canaries in lineage: credentials Glacier holds never reach an event or a log line.

A pipeline on S3 (moto) runs with unique canary strings as its AWS keys and session token,
as a ``SecretStr`` parameter, as the OpenLineage API key and in the transport URL's userinfo;
one of its tasks fails. Every event body the receiver got, every request header but the one
that carries the API key, and every log record of Glacier and of the OpenLineage client (at
DEBUG, where the client logs each event) is searched.
"""

from __future__ import annotations

import logging
import uuid

import polars as pl
import pytest
from pydantic import SecretStr

from glacier import PipelineError, Provider, pipeline
from glacier.config import AwsConfig
from glacier.lineage import flush
from tests.lineage.support import Receiver
from tests.servers import ServerUnavailable, start_s3

_TAG = uuid.uuid4().hex[:10]
CANARIES = {name: f"CANARY{name}{_TAG}" for name in ("KeyId", "Secret", "Token", "Param", "ApiKey")}


def test_no_secret_in_any_event_or_log(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__AUTH__TYPE", "api_key")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__AUTH__API_KEY", CANARIES["ApiKey"])
    caplog.set_level(logging.DEBUG)
    try:
        s3 = start_s3()
    except ServerUnavailable as exc:
        pytest.fail(f"moto's S3 server is needed: {exc}", pytrace=False)
    with s3:
        s3.create_bucket("lake")
        provider = Provider(
            config=AwsConfig(
                region="us-east-1",
                endpoint_url=s3.endpoint,
                access_key_id=SecretStr(CANARIES["KeyId"]),
                secret_access_key=SecretStr(CANARIES["Secret"]),
                session_token=SecretStr(CANARIES["Token"]),
            )
        )
        ex = provider.local()
        raw = provider.bucket(bucket="lake", path="raw/events.parquet")
        out = provider.bucket(bucket="lake", path="out/clean.parquet")
        raw.write(pl.DataFrame({"id": [1, 2, 3], "amount": [1.5, -2.0, 3.0]}))

        @ex.task()
        def extract(source) -> pl.LazyFrame:
            return source.scan()

        @ex.task()
        def clean(df: pl.LazyFrame, token: SecretStr) -> pl.LazyFrame:
            return df.filter(pl.col("amount") > 0)

        @ex.task()
        def save(df: pl.LazyFrame, target) -> int:
            target.write(df)
            return 1

        @ex.task()
        def audit(n: int, token: SecretStr) -> int:
            raise RuntimeError("audit service refused the request")

        @pipeline(name="guarded")
        def guarded(token: SecretStr):
            return audit(save(clean(extract(raw), token), out), token)

        with pytest.raises(PipelineError):
            guarded.run(token=SecretStr(CANARIES["Param"]))
        assert flush(timeout=60)  # while the S3 server is up: written objects are measured
    assert receiver.types("guarded") == ["START", "FAIL"]
    assert receiver.types("guarded.save") == ["START", "COMPLETE"]
    written = receiver.final("guarded.save")["outputs"][0]
    assert (written["namespace"], written["name"]) == ("s3://lake", "out/clean.parquet")
    assert "columnLineage" in written["facets"]  # the S3 scan's plan was read (and its options left out)
    logs = [r.getMessage() for r in caplog.records if r.name.startswith(("glacier", "openlineage"))]
    assert any("will *try* to emit" in line for line in logs)  # the client's debug log of each event
    headers = [str({k: v for k, v in h.items() if k != "Authorization"}) for h in receiver.headers]
    texts = [*receiver.bodies, *logs, *headers]
    for name, canary in CANARIES.items():
        leaked = [t[:200] for t in texts if canary in t]
        assert not leaked, f"canary {name} leaked: {leaked}"
