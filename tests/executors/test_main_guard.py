"""A Dask script without ``if __name__ == "__main__":`` (issue 19 item 13).

Dask's LocalCluster starts its workers with multiprocessing's ``spawn``: each worker
re-imports the script, and a run at the script's top level starts another cluster there.
That used to end in ~430 lines of "Nanny failed to start" tracebacks. Now the run stops
before starting any process, with one error saying what to add. Real scripts, run with
``python script.py`` / ``python -m``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("distributed")

HEADER = """
import polars as pl
from glacier import Provider, pipeline
from glacier.config import DaskConfig, LocalConfig

provider = Provider(config=LocalConfig(base_path="data"))
dask = provider.cluster(config=DaskConfig(n_workers=1))


@dask.task()
def double(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(pl.col("a") * 2)


@pipeline(name="p")
def p():
    return double(pl.DataFrame({"a": [1, 2]}))
"""

UNGUARDED = (
    HEADER
    + """
print("rows", p.run(mode="distributed").height)
"""
)

UNGUARDED_IN_A_FUNCTION = (
    HEADER
    + """
def main():
    print("rows", p.run(mode="distributed").height)


main()
"""
)

GUARDED = (
    HEADER
    + """
if __name__ == "__main__":
    print("rows", p.run(mode="distributed").height)
"""
)


def run(tmp_path: Path, source: str, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "etl.py").write_text(textwrap.dedent(source))
    command = [sys.executable, *(args or ["etl.py"])]
    env = {**os.environ, "GLACIER_PROGRESS": "0"}
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)


@pytest.mark.parametrize(
    ("source", "args"),
    [(UNGUARDED, ()), (UNGUARDED_IN_A_FUNCTION, ()), (UNGUARDED, ("-m", "etl"))],
    ids=["top-level", "called-from-top-level", "python-m"],
)
def test_unguarded_script_gets_one_clear_error(tmp_path, source, args):
    done = run(tmp_path, source, *args)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert 'if __name__ == "__main__":' in done.stderr
    assert "etl.py" in done.stderr  # names the script (and the line of the run)
    assert "Nanny failed to start" not in output
    assert "rows" not in done.stdout
    assert len(output.splitlines()) < 40, output


def test_guarded_script_runs(tmp_path):
    done = run(tmp_path, GUARDED)
    assert done.returncode == 0, done.stderr
    assert "rows 2" in done.stdout
    assert "Nanny failed to start" not in done.stderr
