"""Every example script runs as a user would run it and prints the right result."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from tests.helpers import EXAMPLES, load_example


def run(script: str, cwd: Path, **env: str) -> str:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        cwd=cwd,
        env={**os.environ, "GLACIER_PROGRESS": "0", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_demo_prints_the_report_and_writes_it(tmp_path):
    out = run("demo.py", tmp_path, GLACIER_DEMO_DIR=str(tmp_path / "demo"))
    report = tmp_path / "demo" / "curated" / "revenue_by_region.parquet"
    assert f"output written to {report}" in out
    df = pl.read_parquet(report)
    assert df["region"].to_list() == ["central", "east", "north", "south", "west"]
    # recompute the expected figures independently of Glacier
    sample_data = load_example("sample_data")
    make_customers, make_orders = sample_data.make_customers, sample_data.make_orders

    orders = make_orders(200_000).filter((pl.col("status") != "cancelled") & (pl.col("amount") > 0))
    expected = (
        orders.join(make_customers(), on="customer_id")
        .group_by("region")
        .agg(pl.col("amount").sum().round(2).alias("revenue"), pl.len().alias("orders"))
        .sort("region")
    )
    assert df["orders"].to_list() == expected["orders"].to_list()
    assert df["revenue"].to_list() == pytest.approx(expected["revenue"].to_list())
    assert "done" in out and "publish" in out


def test_design_example_1(tmp_path):
    out = run("example1_simple.py", tmp_path)
    assert "shape: (3, 2)" in out  # values 3, 8, 5 kept; -1 and 0 dropped
    assert (tmp_path / "data" / "data" / "input.parquet").exists()


def test_design_example_2_local_mode(tmp_path):
    out = run("example2_heterogeneous.py", tmp_path)
    assert "prediction" in out and "shape: (2, 3)" in out
    saved = pl.read_parquet(tmp_path / "output.parquet")
    assert saved["id"].to_list() == [1, 3] and saved["prediction"].to_list() == [0.9, 0.9]


def test_portability_snippet_on_local(tmp_path):
    out = run("portability.py", tmp_path, GLACIER_CLOUD="local")
    assert "cloud=local" in out and "shape: (4, 2)" in out
    assert (tmp_path / "data" / "data" / "file.parquet").exists()
