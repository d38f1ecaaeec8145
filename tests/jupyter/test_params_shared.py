"""``--param`` means the same in ``glacier run`` and in ``%glacier run``: both read the
values with the pipeline's annotations, and both refuse a bad value before anything runs."""

from __future__ import annotations

import json
import os
import sys
import textwrap

import pytest
from IPython.core.error import UsageError

from glacier.cli import main

ECHO = textwrap.dedent(
    """
    import datetime
    import json
    from pathlib import Path

    import polars as pl

    from glacier import Provider, pipeline
    from glacier.config import LocalConfig

    provider = Provider(config=LocalConfig(base_path="./data"))
    ex = provider.local()


    @ex.task()
    def record(out: str, n, when, tags, ratio, free) -> pl.DataFrame:
        seen = {k: [type(v).__name__, str(v)] for k, v in dict(n=n, when=when, tags=tags, ratio=ratio, free=free).items()}
        Path(out).write_text(json.dumps(seen))
        return pl.DataFrame({"n": [n]})


    @pipeline(name="echo")
    def echo(out: str, n: int, when: datetime.date, tags: list[int], ratio: float | None = None, free=None):
        return record(out, n, when, tags, ratio, free)
    """
)


@pytest.fixture(autouse=True)
def _fresh_module(monkeypatch, tmp_path):
    """Each test imports its own ``echo_jobs`` from its own folder; the CLI's additions to
    ``sys.path`` and ``PYTHONPATH`` are undone afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    monkeypatch.setenv("GLACIER_PROGRESS", "0")
    (tmp_path / "echo_jobs.py").write_text(ECHO)
    monkeypatch.delitem(sys.modules, "echo_jobs", raising=False)
    yield
    sys.modules.pop("echo_jobs", None)


ITEMS = ["n=3", "when=2024-02-01", "tags=[1, 2]", "ratio=none", "free=7"]


def test_cli_and_magic_read_params_the_same(ip, tmp_path, monkeypatch, capsys):
    args = [arg for item in ITEMS for arg in ("-p", item)]
    assert main(["run", "echo_jobs.py:echo", "-p", "out=cli.json", *args]) == 0
    ip.run_cell("import echo_jobs").raise_error()
    try:
        ip.run_line_magic(
            "glacier",
            "run echo_jobs.echo --param out=magic.json "
            + " ".join(
                f"--param {i}" for i in ["n=3", "when=2024-02-01", "tags=[1,2]", "ratio=none", "free=7"]
            ),
        )
    finally:
        ip.user_ns.pop("echo_jobs", None)
    cli = json.loads((tmp_path / "cli.json").read_text())
    assert cli == json.loads((tmp_path / "magic.json").read_text())
    assert cli == {
        "n": ["int", "3"],
        "when": ["date", "2024-02-01"],
        "tags": ["list", "[1, 2]"],
        "ratio": ["NoneType", "None"],
        "free": ["int", "7"],
    }


def test_a_bad_value_is_the_same_clear_error_before_anything_runs(ip, tmp_path, monkeypatch, capsys):
    message = "--param n=four: 'four' is not a valid int (parameter 'n' of pipeline 'echo')"
    ip.run_cell("import echo_jobs").raise_error()
    try:
        with pytest.raises(UsageError) as info:
            ip.run_line_magic("glacier", "run echo_jobs.echo --param out=x.json --param n=four")
        assert ip.user_ns["echo_jobs"].echo.last_run is None  # nothing ran
    finally:
        ip.user_ns.pop("echo_jobs", None)
    assert str(info.value) == message
    capsys.readouterr()
    assert main(["run", "echo_jobs.py:echo", "-p", "out=x.json", "-p", "n=four"]) == 1
    assert capsys.readouterr().err.strip() == f"glacier: error: {message}"
    assert not (tmp_path / "x.json").exists()
