"""Deployed tasks: the generated ``glacier_handler.py``, one process per task as the
orchestrator runs them, sends each task's events with the execution as the parent run."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest

from glacier.lineage.deployed import execution_run_id
from glacier.terraform import export
from tests.lineage.support import Receiver, SpecValidator

MODULE = """
import os

import polars as pl

from glacier import Provider, pipeline
from glacier.config import LocalConfig

provider = Provider(config=LocalConfig(base_path=os.environ["LINEAGE_DEMO_DATA"]))
ex = provider.local()
source = provider.bucket(bucket="data", path="in.parquet")


@ex.task()
def load(src) -> pl.LazyFrame:
    return src.scan()


@ex.task()
def double(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.with_columns(pl.col("a") * 2)


@ex.task()
def explode(df: pl.LazyFrame) -> pl.LazyFrame:
    raise RuntimeError("the third step broke")


@pipeline(name="deployed_demo")
def deployed_demo():
    return explode(double(load(source)))
"""


@pytest.fixture
def deployed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict[str, str], Path]:
    """The AWS deployment's ``src/`` folder, the environment to run it, and the data folder."""
    (tmp_path / "mod").mkdir()
    (tmp_path / "mod" / "lineage_deployed_demo.py").write_text(textwrap.dedent(MODULE))
    data = tmp_path / "data"
    monkeypatch.setenv("LINEAGE_DEMO_DATA", str(data))
    monkeypatch.syspath_prepend(str(tmp_path / "mod"))
    module = importlib.import_module("lineage_deployed_demo")
    try:
        export(module.deployed_demo, tmp_path / "infra", cloud="aws")
    finally:
        sys.modules.pop("lineage_deployed_demo", None)
    (data / "data").mkdir(parents=True)
    pl.DataFrame({"a": [1, 2, 3]}).write_parquet(data / "data" / "in.parquet")
    src = tmp_path / "infra" / "src"
    path = os.pathsep.join(p for p in (str(src), os.environ.get("PYTHONPATH", "")) if p)
    return src, {**os.environ, "LINEAGE_DEMO_DATA": str(data), "PYTHONPATH": path}, data


def test_each_deployed_task_sends_its_events(
    receiver: Receiver, validate: SpecValidator, deployed: tuple[Path, dict[str, str], Path], tmp_path: Path
) -> None:
    src, env, data = deployed
    env = {**env, "OPENLINEAGE_URL": receiver.url}
    staging = tmp_path / "staging"
    for task in ("load", "double", "explode"):  # the order the orchestrator runs them in
        done = subprocess.run(
            [sys.executable, "glacier_handler.py", "deployed_demo", task, "exec-42", str(staging)],
            cwd=src, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert (done.returncode != 0) == (task == "explode"), done.stderr[-500:]
    for event in receiver.events:
        validate(event)
    assert receiver.types("deployed_demo") == []  # no process sees the whole execution
    assert receiver.types("deployed_demo.load") == ["START", "COMPLETE"]
    assert receiver.types("deployed_demo.double") == ["START", "COMPLETE"]
    assert receiver.types("deployed_demo.explode") == ["START", "FAIL"]
    parent = execution_run_id("glacier", "deployed_demo", "exec-42")
    for event in receiver.events:
        assert event["run"]["facets"]["parent"]["run"]["runId"] == parent
        tags = {t["key"]: t["value"] for t in event["run"]["facets"]["tags"]["tags"]}
        assert (tags["glacier.run_id"], tags["glacier.mode"]) == ("exec-42", "deployed")
    load = receiver.final("deployed_demo.load")
    assert [(d["namespace"], d["name"]) for d in load["inputs"]] == [
        ("file", str(data / "data" / "in.parquet"))
    ]
    double = receiver.final("deployed_demo.double")
    assert [(d["namespace"], d["name"]) for d in double["inputs"]] == [
        ("glacier://glacier", "deployed_demo.load")
    ]
    out = double["outputs"][0]
    assert out["outputFacets"]["outputStatistics"]["rowCount"] == 3
    # the input came through the staging area: named as the task that produced it
    assert out["facets"]["columnLineage"]["fields"]["a"]["inputFields"] == [
        {
            "namespace": "glacier://glacier",
            "name": "deployed_demo.load",
            "field": "a",
            "transformations": [{"type": "DIRECT", "subtype": "TRANSFORMATION", "masking": False}],
        }
    ]
    failed = receiver.final("deployed_demo.explode")["run"]["facets"]["errorMessage"]
    assert failed["message"] == "RuntimeError: the third step broke"


def test_without_configuration_the_handler_imports_no_client(
    no_lineage_env: Path, deployed: tuple[Path, dict[str, str], Path], tmp_path: Path
) -> None:
    src, env, _ = deployed
    env = {k: v for k, v in env.items() if not k.startswith("OPENLINEAGE")}
    code = (
        "import runpy, sys; sys.argv = ['glacier_handler.py', 'deployed_demo', 'load', 'e1', sys.argv[1]]; "
        "runpy.run_path('glacier_handler.py', run_name='__main__'); "
        "print(sorted(m for m in sys.modules if m.startswith('openlineage')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "staging")],
        cwd=src, env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert done.stdout.strip().splitlines()[-1] == "[]"
