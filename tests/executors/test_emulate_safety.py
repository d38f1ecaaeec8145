"""emulate=True leaks nothing and leaves nothing (issue 19, items 4 and 5): no credential
is written to disk, the call's files are private and removed on every exit path, a function
process whose parent is killed exits, and limit errors are not retried."""

from __future__ import annotations

import glob
import os
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import psutil
import pytest
from pydantic import SecretStr

from glacier import DefinitionError, PipelineError, Provider, pipeline
from glacier.config import AwsConfig, LambdaConfig

CANARY = "CANARYsecretKey" + os.urandom(6).hex()


@dataclass
class Holder:
    """A frame inside an object the wire format does not open: pickled as it is."""

    frame: pl.LazyFrame


def _wait_for(path: Path, proc: subprocess.Popen | None = None, limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while not path.exists():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(proc.communicate()[1][-3000:])
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def test_no_credential_reaches_the_disk_and_the_call_files_are_private(s3_server, tmp_path, monkeypatch):
    for key in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    bucket = f"canary-{os.urandom(4).hex()}"
    s3_server.create_bucket(bucket)
    provider = Provider(
        config=AwsConfig(
            region="us-east-1",
            endpoint_url=s3_server.endpoint,
            access_key_id="canary-key-id",
            secret_access_key=CANARY,
        )
    )
    raw = provider.bucket(bucket=bucket, path="raw/in.parquet")
    raw.write(pl.DataFrame({"a": [1, 2, 3]}))
    local = provider.local()
    lam = provider.serverless(config=LambdaConfig(memory=1024, timeout=120))
    started, go = tmp_path / "started", tmp_path / "go"

    @local.task()
    def load(src) -> pl.LazyFrame:
        return src.scan()  # a LazyFrame whose plan holds the storage options

    @local.task()
    def wrap(src) -> Holder:
        return Holder(src.scan())

    @lam.task()
    def count(df: pl.LazyFrame, held: Holder, src) -> int:
        started.touch()
        while not go.exists():
            time.sleep(0.01)
        # the function reads S3 itself: its credentials were put back from the pipe
        return df.collect().height + held.frame.collect().height + src.read().height

    @pipeline(name="canary")
    def canary():
        return count(load(raw), wrap(raw), raw)

    folders: dict[str, int] = {}
    files: dict[str, tuple[int, bool]] = {}

    def watch() -> None:
        _wait_for(started)
        for folder in glob.glob(str(scratch / "glacier-emulate-*")):
            folders[folder] = stat.S_IMODE(os.stat(folder).st_mode)
            for name in os.listdir(folder):
                path = os.path.join(folder, name)
                try:
                    data = Path(path).read_bytes()
                    files[path] = (stat.S_IMODE(os.stat(path).st_mode), CANARY.encode() in data)
                except FileNotFoundError:
                    continue
        go.touch()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    assert canary.run(emulate=True) == 9
    watcher.join(30)
    assert folders and files, "the call's folder was not found while the function ran"
    assert [path for path, (_, leaked) in files.items() if leaked] == []
    assert set(folders.values()) == {0o700}
    assert {mode for mode, _ in files.values()} == {0o600}
    assert os.listdir(scratch) == []  # removed when the call ended


def test_a_payload_holding_a_bare_credential_is_refused():
    from glacier.run import payload

    secrets: list[str] = []
    data = payload.dumps({"key": SecretStr(CANARY)}, secrets, label="t")
    assert CANARY.encode() not in data and secrets == [CANARY]
    assert payload.loads(data, secrets)["key"].get_secret_value() == CANARY
    lazy = pl.scan_parquet("s3://b/x.parquet", storage_options={"aws_secret_access_key": CANARY})
    with pytest.raises(DefinitionError, match="t: its input holds a credential"):
        payload.dumps({"options": {"aws_secret_access_key": CANARY}}, [], label="t", check=[CANARY])
    assert CANARY.encode() in __import__("pickle").dumps(lazy)  # what polars itself would write
    assert CANARY.encode() not in payload.dumps(Holder(pl.LazyFrame({"a": [1]})), [], label="t")


PARENT = textwrap.dedent(
    """
    import os, sys, time
    from glacier import Provider, pipeline
    from glacier.config import LambdaConfig, LocalConfig

    marker = sys.argv[2]
    lam = Provider(config=LocalConfig(base_path=sys.argv[1])).serverless(config=LambdaConfig(memory=512, timeout=600))

    @lam.task()
    def linger(n: int) -> int:
        open(marker, "w").write(str(os.getpid()))
        time.sleep(600)
        return n

    @pipeline(name="linger")
    def lingering():
        return linger(1)

    lingering.run(emulate=True)
    """
)


def test_a_function_process_exits_when_its_parent_is_killed(tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    (tmp_path / "parent.py").write_text(PARENT)
    marker = tmp_path / "child.pid"
    parent = subprocess.Popen(
        [sys.executable, str(tmp_path / "parent.py"), str(tmp_path / "data"), str(marker)],
        env={**os.environ, "TMPDIR": str(scratch), "GLACIER_PROGRESS": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(marker, parent)
    child = psutil.Process(int(marker.read_text()))
    assert glob.glob(str(scratch / "glacier-emulate-*"))  # the call's folder exists while it runs
    parent.send_signal(signal.SIGKILL)
    parent.wait(30)
    child.wait(30)  # psutil.TimeoutExpired if the orphan lives on
    assert os.listdir(scratch) == []  # the orphan removed the call's folder as it left


def test_a_folder_left_by_killed_processes_is_swept_by_the_next_run(tmp_path, monkeypatch, local_provider):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = scratch / f"glacier-emulate-{dead.pid}-abc123"
    stale.mkdir()
    (stale / "payload.pkl").write_bytes(b"left by a kill -9")
    mine = scratch / f"glacier-emulate-{os.getpid()}-live"
    mine.mkdir()  # a live process's folder stays
    lam = local_provider.serverless(config=LambdaConfig(memory=512, timeout=60))

    @lam.task()
    def one() -> int:
        return 1

    @pipeline(name="one")
    def one_pipeline():
        return one()

    assert one_pipeline.run(emulate=True) == 1
    assert sorted(os.listdir(scratch)) == [mine.name]


# -- limits are final: no retry ---------------------------------------------------------------------
@pytest.fixture
def counted(local_provider, tmp_path):
    tries = tmp_path / "tries.txt"
    lam = local_provider.serverless(config=LambdaConfig(memory=256, timeout=2))

    @lam.task(retries=2, retry_delay=0)
    def hungry(rows: int) -> int:
        with open(tries, "a") as fh:
            fh.write("x")
        big = pl.int_range(0, rows, eager=True).to_frame("x").with_columns(y=pl.col("x") * 2)
        return big.height

    @lam.task(retries=2, retry_delay=0)
    def slow(seconds: float) -> int:
        with open(tries, "a") as fh:
            fh.write("x")
        time.sleep(seconds)
        return 1

    @pipeline(name="hungry")
    def hungry_pipeline(rows: int):
        return hungry(rows)

    @pipeline(name="slow")
    def slow_pipeline(seconds: float):
        return slow(seconds)

    return tries, hungry_pipeline, slow_pipeline


def test_an_emulated_memory_limit_is_not_retried(counted):
    tries, hungry_pipeline, _ = counted
    with pytest.raises(PipelineError, match="peak memory"):
        hungry_pipeline.run(emulate=True, rows=30_000_000)
    assert tries.read_text() == "x"  # exactly one attempt despite retries=2
    assert hungry_pipeline.last_run["hungry"].attempts == 1


def test_an_emulated_timeout_is_not_retried(counted):
    tries, _, slow_pipeline = counted
    with pytest.raises(PipelineError, match="timeout is 2 s"):
        slow_pipeline.run(emulate=True, seconds=60)
    assert tries.read_text() == "x"
    assert slow_pipeline.last_run["slow"].attempts == 1
