"""Every Glacier object displays itself: mime types, content, and no secret anywhere."""

from __future__ import annotations

import html as html_lib
import json
import re
import xml.etree.ElementTree as ET
from urllib.parse import unquote

import polars as pl
import pytest

from glacier import PipelineError, Provider, pipeline
from glacier.config import AwsConfig, DatabricksConfig, LambdaConfig, S3Config
from glacier.display import mimebundle
from glacier.display.dag import layout
from glacier.preview import preview

CANARY = "CANARY-secret-7f3a9c"


def _svgs(html: str) -> list[ET.Element]:
    """The SVG pictures in ``html``: inline, or drawn as ``<img>`` data URIs."""
    inline = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    drawn = re.findall(r'src="data:image/svg\+xml;charset=utf-8,([^"]+)"', html)
    return [ET.fromstring(m) for m in inline + [unquote(html_lib.unescape(d)) for d in drawn]]


def test_provider_bundle(etl):
    provider = etl.provider
    bundle = mimebundle(provider)
    assert set(bundle) == {"text/plain", "text/html"}
    for text in bundle.values():
        assert "raw/orders.parquet" in text and "curated/summary.parquet" in text
        assert "extract, clean, summarise, publish" in text
        assert "local" in text
    assert provider._repr_mimebundle_() == bundle


def test_bucket_bundle_says_whether_the_object_exists(etl):
    raw, out = etl.raw, etl.out
    assert "exists" in mimebundle(raw)["text/plain"]
    assert raw.get_uri() in mimebundle(raw)["text/html"]
    assert "not written yet" in mimebundle(out)["text/plain"]


def test_executor_and_task_bundles(etl):
    ex, clean = etl.executor, etl.clean
    e = mimebundle(ex)
    assert (
        "Executor local" in e["text/plain"] and "clean(df: pl.LazyFrame) -&gt; pl.LazyFrame" in e["text/html"]
    )
    t = mimebundle(clean)
    assert t["text/plain"].startswith("Task clean(df: pl.LazyFrame) -> pl.LazyFrame")
    assert "executor: local (local, this process)" in t["text/plain"]


def test_pipeline_bundle_is_a_dag_picture(etl):
    bundle = mimebundle(etl.pipeline)
    assert set(bundle) == {"text/plain", "text/html"}
    (svg,) = _svgs(bundle["text/html"])
    ns = "{http://www.w3.org/2000/svg}"
    tasks = [g.get("data-id") for g in svg.iter(f"{ns}g") if g.get("class") == "glacier-task"]
    buckets = [g.get("data-id") for g in svg.iter(f"{ns}g") if g.get("class") == "glacier-bucket"]
    assert tasks == ["extract", "clean", "summarise", "publish"]
    assert sorted(buckets) == ["bucket:curated/summary.parquet", "bucket:raw/orders.parquet"]
    assert "Orders to a summary." in bundle["text/html"]
    assert "extract    [local]  <- raw/orders.parquet" in bundle["text/plain"]
    assert "publish    [local]  <- summarise  -> curated/summary.parquet" in bundle["text/plain"]


def test_layout_is_left_to_right_in_layers(etl):
    lay = layout(etl.pipeline.graph)
    x = {nid: n.x for nid, n in lay.nodes.items()}
    assert x["bucket:raw/orders.parquet"] < x["extract"] < x["clean"] < x["summarise"] < x["publish"]
    assert x["publish"] < x["bucket:curated/summary.parquet"]
    for a, b in lay.edges:
        assert lay.nodes[a].x < lay.nodes[b].x


def test_run_record_bundle_table_and_timeline(etl):
    pipe = etl.pipeline
    pipe.run(progress=False)
    bundle = mimebundle(pipe.last_run)
    assert "done" in bundle["text/plain"] and "summarise" in bundle["text/plain"]
    html = bundle["text/html"]
    assert "<table class='gt'>" in html and "cache hit" in html
    (timeline,) = _svgs(html)
    assert timeline.get("class") == "glacier-timeline"
    # the pipeline display now carries each task's last status
    assert 'data-status="done"' in unquote(mimebundle(pipe)["text/html"])


def test_failed_run_record_shows_the_error(local_provider):
    ex = local_provider.local()

    @ex.task()
    def boom() -> pl.DataFrame:
        raise RuntimeError("disk on fire")

    @ex.task()
    def after(df: pl.DataFrame) -> pl.DataFrame:
        return df

    @pipeline(name="bad")
    def bad():
        return after(boom())

    with pytest.raises(PipelineError):
        bad.run(progress=False)
    bundle = mimebundle(bad.last_run)
    assert "RuntimeError: disk on fire" in bundle["text/html"] and "skipped" in bundle["text/html"]
    assert "failed" in bundle["text/plain"]


def test_preview_bundle(etl):
    shown = preview(etl.pipeline.node("clean"), n=2)
    bundle = mimebundle(shown)
    assert "Preview of etl.clean" in bundle["text/plain"] and "region: String" in bundle["text/plain"]
    assert "<table" in bundle["text/html"] and "amount" in bundle["text/html"]


def test_include_exclude(etl):
    assert set(mimebundle(etl.provider, include={"text/plain"})) == {"text/plain"}
    assert set(mimebundle(etl.provider, exclude={"text/html"})) == {"text/plain"}


def test_no_secret_in_any_display(tmp_path):
    provider = Provider(
        config=AwsConfig(
            region="eu-west-1",
            endpoint_url="http://127.0.0.1:9",
            access_key_id="AKIA" + CANARY,
            secret_access_key=CANARY,
            session_token=CANARY,
        )
    )
    cluster = provider.cluster(config=DatabricksConfig(cluster_id="c-1", token=CANARY))
    fn = provider.serverless(config=LambdaConfig(memory=512))
    bucket = provider.bucket(bucket="lake", path="raw/x.parquet", config=S3Config(versioning=True))

    @cluster.task()
    def score(source) -> pl.LazyFrame:
        return source.scan()

    @fn.task()
    def tidy(df: pl.LazyFrame) -> pl.LazyFrame:
        return df

    @pipeline(name="secretive")
    def secretive(token: str = "visible-param"):
        return tidy(score(bucket))

    objects = [provider, cluster, fn, bucket, score, tidy, secretive]
    with pytest.raises(PipelineError):
        secretive.run(mode="distributed", progress=False)
    objects.append(secretive.last_run)
    for obj in objects:
        dumped = json.dumps(mimebundle(obj))
        assert CANARY not in dumped, type(obj).__name__
    assert "eu-west-1" in mimebundle(provider)["text/plain"]
    assert "**********" in mimebundle(provider)["text/html"]
    assert "unknown" in mimebundle(bucket)["text/plain"]  # no storage reachable: not a hang


def test_display_of_a_1000_task_pipeline(local_provider):
    ex = local_provider.local()

    @ex.task()
    def step(*dfs: pl.DataFrame) -> pl.DataFrame:
        return pl.DataFrame({"a": [1]})

    @pipeline(name="big")
    def big():
        outs = [step()]
        for i in range(1, 1000):
            outs.append(step(outs[i - 1], outs[i // 2]))
        return outs[-1]

    bundle = mimebundle(big)
    (svg,) = _svgs(bundle["text/html"])
    ns = "{http://www.w3.org/2000/svg}"
    assert sum(1 for g in svg.iter(f"{ns}g") if g.get("class") == "glacier-task") == 1000


def test_untraceable_pipeline_still_displays(local_provider):
    ex = local_provider.local()

    @ex.task()
    def nothing() -> pl.DataFrame:
        return pl.DataFrame()

    @pipeline(name="empty")
    def empty():
        nothing()

    text = mimebundle(empty)["text/plain"]
    assert "cannot draw the DAG" in text and "returns nothing" in text
