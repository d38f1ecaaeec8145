"""The generated task entry point runs real tasks; the HCL writer round-trips and is fmt-clean."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import textwrap

import hcl2
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glacier.terraform import export
from glacier.terraform.hcl import Attr, Block, Call, Raw, quote, render_file
from tests.helpers import load_example

MODULE = """
import os

import polars as pl

from glacier import Provider, pipeline
from glacier.config import LocalConfig

provider = Provider(config=LocalConfig(base_path=os.environ.get("TF_DEMO_DATA", "./data")))
ex = provider.local()
source = provider.bucket(bucket="data", path="in.parquet")


@ex.task()
def load(src) -> pl.LazyFrame:
    return src.scan()


@ex.task()
def double(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.with_columns(pl.col("a") * 2)


@pipeline(name="handler_demo")
def handler_demo():
    return double(load(source))
"""


def test_generated_handler_runs_tasks_in_order_through_staging(tmp_path, monkeypatch):
    (tmp_path / "mod").mkdir()
    (tmp_path / "mod" / "tf_handler_demo.py").write_text(textwrap.dedent(MODULE))
    data = tmp_path / "data"
    monkeypatch.setenv("TF_DEMO_DATA", str(data))
    monkeypatch.syspath_prepend(str(tmp_path / "mod"))
    module = importlib.import_module("tf_handler_demo")
    try:
        export(module.handler_demo, tmp_path / "infra", cloud="aws")
    finally:
        sys.modules.pop("tf_handler_demo", None)
    src = tmp_path / "infra" / "src"
    assert (src / "tf_handler_demo.py").read_text() == textwrap.dedent(MODULE)
    (data / "data").mkdir(parents=True)
    pl.DataFrame({"a": [1, 2, 3]}).write_parquet(data / "data" / "in.parquet")
    staging = tmp_path / "staging"
    path = os.pathsep.join(p for p in (str(src), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "TF_DEMO_DATA": str(data), "PYTHONPATH": path}
    for task in ("load", "double"):  # the order the orchestrator runs them in
        subprocess.run(
            [sys.executable, "glacier_handler.py", "handler_demo", task, "run-1", str(staging)],
            cwd=src, env=env, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    out = pl.read_parquet(staging / "run-1" / "double.parquet")
    assert out["a"].to_list() == [2, 4, 6]


_ESC = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _hcl_unquote(literal: str) -> str:
    """HCL's own reading of a quoted literal: escapes and ``$${`` / ``%%{``."""
    assert literal[0] == literal[-1] == '"'
    body, out, i = literal[1:-1], [], 0
    while i < len(body):
        if body[i] == "\\":
            out.append(_ESC[body[i + 1]])
            i += 2
        elif body.startswith(("$${", "%%{"), i):
            out.append(body[i] + "{")
            i += 3
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


# python-hcl2's grammar accepts neither %%{ nor an unclosed $${ (terraform accepts both):
# generated text keeps template sequences balanced; the escapes are tested below.
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=40).filter(
    lambda s: "%{" not in s and "${" not in s
) | st.sampled_from(["${var.x}", 'a "quoted" \\ path', "line\nbreak\ttab", "$${x}", "@{body('x')}", "$"])


@settings(max_examples=60, deadline=None)
@given(value=text)
def test_strings_round_trip_through_python_hcl2(value):
    parsed = hcl2.loads(render_file([Block("locals").add(Attr("v", value))]))
    assert _hcl_unquote(parsed["locals"][0]["v"]) == value


def test_template_sequences_are_escaped():
    assert quote("${x} %{ if }") == '"$${x} %%{ if }"'
    assert _hcl_unquote(quote("%{ if } ${a}")) == "%{ if } ${a}"


def test_layout_follows_terraform_fmt_rules():
    block = Block("resource", ("aws_thing", "x")).add(
        Attr("a", 1),
        Attr("longer_name", "v"),
        Attr("obj", {"k": 1, "much_longer": Raw("var.x")}),
        Attr("after", True),
        Attr("call", Call("jsonencode", {"States": {"a": {"Type": "Pass"}}})),
        Block("nested").add(Attr("zz", 1), Attr("z", [1, 2])),
    )
    assert render_file([block]) == textwrap.dedent(
        """\
        resource "aws_thing" "x" {
          a           = 1
          longer_name = "v"
          obj = {
            k           = 1
            much_longer = var.x
          }
          after = true
          call = jsonencode({
            States = {
              a = {
                Type = "Pass"
              }
            }
          })
          nested {
            zz = 1
            z  = [1, 2]
          }
        }
        """
    )


@pytest.mark.skipif(
    shutil.which("terraform") is None, reason="no terraform binary to compare with `terraform fmt`"
)
def test_generated_files_are_unchanged_by_terraform_fmt(tmp_path):
    from glacier.terraform import render

    example2_heterogeneous = load_example("example2_heterogeneous")
    for cloud in ("aws", "gcp", "azure"):
        for name, body in render(example2_heterogeneous.ml_pipeline, cloud=cloud).items():
            if name.endswith(".tf"):
                proc = subprocess.run(
                    ["terraform", "fmt", "-"],
                    input=body,
                    capture_output=True,
                    text=True,
                    timeout=60,
                    check=True,
                )
                assert proc.stdout == body, f"{cloud}/{name} is not laid out as terraform fmt lays it out"
