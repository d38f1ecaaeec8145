"""No configuration, no lineage: nothing sent, the client never imported, nothing to pay."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from glacier.lineage import configured
from tests.helpers import child_env
from tests.lineage.support import start_receiver

RUN = textwrap.dedent(
    """
    import json, sys
    import polars as pl
    from glacier import Provider, pipeline
    from glacier.config import LocalConfig

    provider = Provider(config=LocalConfig(base_path="data"))
    ex = provider.local()
    source = provider.bucket(bucket="data", path="input.parquet")
    source.write(pl.DataFrame({"id": [1, 2], "value": [3, -1]}))

    @ex.task()
    def load(src) -> pl.LazyFrame:
        return src.scan()

    @pipeline(name="quiet")
    def quiet():
        return load(source)

    assert quiet.run().collect().height == 2
    loaded = sorted(m for m in sys.modules if m.startswith(("openlineage", "glacier.lineage")))
    print(json.dumps(loaded))
    """
)


def _run_child(cwd: Path, env: dict[str, str]) -> list[str]:
    clean = {k: v for k, v in child_env(**env).items() if not k.startswith("OPENLINEAGE") or k in env}
    out = subprocess.run(
        [sys.executable, "-c", RUN], cwd=cwd, env=clean, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_no_configuration_imports_no_client_and_sends_nothing(tmp_path: Path) -> None:
    server, got = start_receiver()  # listening, but nobody told the run about it
    try:
        loaded = _run_child(tmp_path, {"HOME": str(tmp_path)})
    finally:
        server.shutdown()
    assert not [m for m in loaded if m.startswith("openlineage")]
    assert loaded == ["glacier.lineage", "glacier.lineage.config"]  # the stdlib-only switch
    assert got.events == []


def test_disabled_wins_over_a_configured_url(tmp_path: Path) -> None:
    server, got = start_receiver()
    try:
        loaded = _run_child(
            tmp_path, {"HOME": str(tmp_path), "OPENLINEAGE_URL": got.url, "OPENLINEAGE_DISABLED": "TRUE"}
        )
    finally:
        server.shutdown()
    assert not [m for m in loaded if m.startswith("openlineage")]
    assert got.events == []


def test_a_configured_run_in_a_fresh_process_sends_its_events(tmp_path: Path) -> None:
    server, got = start_receiver()
    try:
        loaded = _run_child(tmp_path, {"HOME": str(tmp_path), "OPENLINEAGE_URL": got.url})
    finally:
        server.shutdown()
    assert "openlineage.client" in loaded
    assert [(e["job"]["name"], e["eventType"]) for e in got.events] == [
        ("quiet", "START"),
        ("quiet.load", "START"),
        ("quiet.load", "COMPLETE"),
        ("quiet", "COMPLETE"),
    ]


@pytest.mark.parametrize(
    ("variables", "config_file", "expected"),
    [
        ({}, None, False),
        ({"OPENLINEAGE_URL": "http://127.0.0.1:9"}, None, True),
        ({"OPENLINEAGE__TRANSPORT__TYPE": "console"}, None, True),
        ({}, "openlineage.yml", True),
        ({"OPENLINEAGE_CONFIG": "{dir}/elsewhere.yml"}, "elsewhere.yml", True),
        ({"OPENLINEAGE_URL": "http://127.0.0.1:9", "OPENLINEAGE_DISABLED": "true"}, None, False),
        ({"OPENLINEAGE_NAMESPACE": "team"}, None, False),
    ],
)
def test_configured_by_the_clients_own_sources(
    no_lineage_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    variables: dict[str, str],
    config_file: str | None,
    expected: bool,
) -> None:
    if config_file:
        (no_lineage_env / config_file).write_text("transport:\n  type: console\n")
    for name, value in variables.items():
        monkeypatch.setenv(name, value.format(dir=no_lineage_env))
    assert configured() is expected
