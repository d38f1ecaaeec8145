"""The README's Quickstart runs as written in an empty folder; when a run fails (here: the
same code without the line that writes its input), the traceback shows the user's frames
and the one-line message, in Python and in IPython, and no progress bar ends at 100 %."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from glacier import PipelineError, Provider, pipeline
from glacier.config import LocalConfig
from tests.notebooks.notebook_support import ROOT

WRITES_INPUT = re.compile(r"^data_source\.write\(.*$\n", re.MULTILINE)


def quickstart() -> str:
    """The first Python block of README.md's "Quickstart" section, as written."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Quickstart\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert match, "README.md's Quickstart has no ```python block"
    return match.group(1)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLACIER_")}  # the defaults
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return env


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=120)


def test_the_quickstart_runs_verbatim_in_an_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "quickstart.py").write_text(quickstart())
    done = _run([sys.executable, "quickstart.py"], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "shape: (3, 2)" in done.stdout  # the rows with value > 0
    assert "'simple' (local): done" in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "quickstart.py"]


def _failing() -> str:
    code, writes = WRITES_INPUT.subn("", quickstart())
    assert writes == 1, "the Quickstart writes its sample input in one line"
    return code


def _frames(traceback: str) -> list[str]:
    return re.findall(r'^\s*File "([^"]+)", line \d+', traceback, flags=re.M)


def test_a_failed_run_shows_the_users_frames_and_the_message(tmp_path: Path) -> None:
    (tmp_path / "quickstart.py").write_text(_failing())
    done = _run([sys.executable, "quickstart.py"], tmp_path)
    assert done.returncode == 1
    err = done.stderr
    assert "return source.scan()" in err and "result = simple_pipeline.run(" in err
    assert err.rstrip().splitlines()[-1].startswith("glacier.errors.PipelineError: pipeline 'simple' failed:")
    frames = _frames(err)
    # the task's line, the line that ran the pipeline, and the one frame that re-raised
    assert [Path(f).name for f in frames] == ["quickstart.py", "quickstart.py", "pipelines.py"]
    assert len(err.splitlines()) < 20


def test_a_failed_run_in_ipython_shows_only_the_users_frames(tmp_path: Path) -> None:
    code = _failing()
    done = _run([sys.executable, "-m", "IPython", "--colors=NoColor", "--no-banner", "-c", code], tmp_path)
    out = done.stdout + done.stderr
    assert "PipelineError: pipeline 'simple' failed: task 'load'" in out
    assert "return source.scan()" in out
    assert all("glacier" not in Path(f).parts for f in _frames(out)), out
    assert "contextlib" not in out and "interactiveshell" not in out and "scheduler" not in out
    assert len(out.strip().splitlines()) < 20, out


def test_a_failed_runs_progress_bar_stops_short(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    provider = Provider(config=LocalConfig(base_path=str(tmp_path)))
    local = provider.local()
    missing = provider.bucket(bucket="data", path="missing.parquet")

    @local.task()
    def load(source) -> pl.LazyFrame:
        return source.scan()

    @local.task()
    def keep(df: pl.LazyFrame) -> pl.LazyFrame:
        return df

    @pipeline(name="short")
    def short():
        return keep(load(missing))

    with pytest.raises(PipelineError):
        short.run(progress=True)
    bar = capsys.readouterr().err.strip().splitlines()[-1]
    assert "0/2" in bar and "failed" in bar and "100%" not in bar
