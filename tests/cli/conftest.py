"""Running the ``glacier`` program in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "glacier"

PIPELINES = textwrap.dedent(
    """
    import polars as pl

    from glacier import Provider, pipeline
    from glacier.config import LocalConfig

    provider = Provider(config=LocalConfig(base_path="./data"))
    local_exec = provider.local()
    NOT_A_PIPELINE = 42


    @local_exec.task()
    def make(n: int, scale: float, flag: bool, label: str) -> pl.LazyFrame:
        return pl.LazyFrame({"i": list(range(n))}).with_columns(
            (pl.col("i") * scale).alias("x"), pl.lit(flag).alias("flag"), pl.lit(label).alias("label")
        )


    @local_exec.task()
    def double(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.with_columns(pl.col("x") * 2)


    @local_exec.task()
    def explode(df: pl.LazyFrame) -> pl.LazyFrame:
        raise RuntimeError("boom in explode")


    @pipeline(name="numbers")
    def numbers(n: int = 3, scale: float = 1.0, flag: bool = False, label: str = "a"):
        return double(make(n, scale, flag, label))


    @pipeline(name="broken")
    def broken_pipeline():
        return explode(make(1, 1.0, False, "b"))
    """
)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "pipes.py").write_text(PIPELINES)
    (tmp_path / "single.py").write_text(PIPELINES.split('@pipeline(name="broken")')[0])
    (tmp_path / "raises.py").write_text("raise ZeroDivisionError('division by zero at import')\n")
    return tmp_path


@pytest.fixture
def glacier() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``glacier(*args, cwd=...)``: the console script when installed, else ``python -m glacier.cli``."""
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "glacier.cli"]

    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "GLACIER_PROGRESS": "0", "COLUMNS": "120"}
        return subprocess.run(
            [*command, *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env, check=False
        )

    return run
