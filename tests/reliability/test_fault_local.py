"""Fault matrix, in-process: corrupted input, a full disk, a hung task, Ctrl-C.

For each fault: the run record says what happened, finished outputs are intact, no
partial file is left, and the error names the task (and, where Glacier can know it, the
resource and what to check).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
from pathlib import Path

import polars as pl
import pytest

from glacier import PipelineError, Provider, pipeline
from glacier.config import LocalConfig
from tests.helpers import ORDERS, build_etl

IN = ORDERS
OLD = pl.DataFrame({"id": [0], "value": [42]})


def leftovers(root: Path) -> list[Path]:
    """Temporary files a write may leave next to its target."""
    return [p for p in root.rglob("*") if "glacier-tmp" in p.name or p.name.endswith(".tmp")]


def etl(provider, *, load_eager: bool = False):
    """The shared ETL reading ``raw/in.parquet`` and publishing ``curated/out.parquet``."""
    built = build_etl(
        provider,
        raw=provider.bucket(bucket="raw", path="in.parquet"),
        out=provider.bucket(bucket="curated", path="out.parquet"),
        eager=load_eager,
        name="local_etl",
    )
    return built.pipeline, built.raw, built.out


# -- a corrupted parquet input ---------------------------------------------------------------------
@pytest.mark.parametrize("load_eager", [False, True], ids=["scan", "read"])
def test_corrupted_parquet_input(local_provider, tmp_path, load_eager):
    p, src, dst = etl(local_provider, load_eager=load_eager)
    src.write(IN)
    dst.write(OLD)
    data = Path(src.get_uri()).read_bytes()
    Path(src.get_uri()).write_bytes(data[: len(data) // 2] + b"\0" * 16 + data[-8:])  # torn in the middle
    with pytest.raises(PipelineError) as info:
        p.run(mode="local")
    record = p.last_run
    assert record.status == "failed" and len(record.failed) == 1
    # scan() reads the footer at once, so even a lazy scan fails in the task that reads the object
    assert record.failed == ["extract"] and record.skipped == ["clean", "summarise", "publish"]
    message = str(info.value)
    assert "'extract'" in message and "raw/in.parquet" in message and "parquet" in message.lower()
    assert pl.read_parquet(dst.get_uri()).equals(OLD)  # the older output is intact
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("load_eager", [False, True], ids=["scan", "read"])
def test_corrupted_parquet_error_names_the_object(local_provider, load_eager):
    """Found here: the error used to be polars' bare 'File out of specification'."""
    p, src, _ = etl(local_provider, load_eager=load_eager)
    src.write(IN)
    Path(src.get_uri()).write_bytes(b"PAR1 this is not parquet PAR1")
    with pytest.raises(PipelineError) as info:
        p.run(mode="local")
    assert "raw/in.parquet" in str(info.value)


# -- disk full during a local write ----------------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs mounted for the test (root and mount(8) needed)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("disk-full test needs mount(8) to mount a small tmpfs")
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "glacier-test", str(mount)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        pytest.skip(
            f"disk-full test needs to mount a small tmpfs (root, CAP_SYS_ADMIN): {proc.stderr.strip()}"
        )
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _big() -> pl.DataFrame:
    n = 600_000
    return pl.DataFrame(
        {"id": range(n), "text": pl.Series([f"row-{i}-{i * 7919 % 1000003}" for i in range(n)])}
    )


def test_disk_full_during_a_local_write(local_provider, small_disk):
    target = Provider(config=LocalConfig(base_path=str(small_disk))).bucket(
        bucket="curated", path="out.parquet"
    )
    src = local_provider.bucket(bucket="raw", path="in.parquet")
    ex = local_provider.local()

    @ex.task(name="inflate")
    def inflate(source) -> pl.LazyFrame:
        assert source.read().height == IN.height
        return _big().lazy()

    @ex.task(name="save_big")
    def save_big(df: pl.LazyFrame) -> int:
        target.write(df)
        return 1

    @pipeline(name="fills_the_disk")
    def fills():
        return save_big(inflate(src))  # read the input, write a frame bigger than the disk

    src.write(IN)
    target.write(OLD)
    free_before = shutil.disk_usage(small_disk).free
    with pytest.raises(PipelineError) as info:
        fills.run(mode="local")
    record = fills.last_run
    assert record["inflate"].status == "done" and record["save_big"].status == "failed"
    message = str(info.value)
    assert "'save_big'" in message and "StorageError" in message and "curated/out.parquet" in message
    assert "no space left" in message.lower() and "free some space" in message
    assert pl.read_parquet(target.get_uri()).equals(OLD)
    assert leftovers(small_disk) == [] and sorted(os.listdir(small_disk / "curated")) == ["out.parquet"]
    assert shutil.disk_usage(small_disk).free == free_before  # the partial temporary file is gone


def test_disk_full_is_a_storage_error_naming_the_target(small_disk):
    """Found here: a full disk used to surface as polars' ComputeError."""
    from glacier import StorageError

    target = Provider(config=LocalConfig(base_path=str(small_disk))).bucket(
        bucket="curated", path="out.parquet"
    )
    with pytest.raises(StorageError) as info:
        target.write(_big())
    assert "curated/out.parquet" in str(info.value) and "free some space" in str(info.value)


# -- a task that hangs past its timeout -------------------------------------------------------------
def test_task_hanging_past_its_timeout(local_provider):
    ex = local_provider.local()
    release = threading.Event()
    returned: list[int] = []  # the hanging call, once it is let go
    out = local_provider.bucket(bucket="curated", path="side.parquet")

    @ex.task(timeout=0.5)
    def hang(x: int) -> int:
        release.wait(60)
        returned.append(x)
        return x

    @ex.task()
    def after(x: int) -> int:
        return x + 1

    @ex.task()
    def side() -> int:
        out.write(OLD)
        return 1

    @pipeline(name="hangs")
    def hangs():
        return after(hang(1)), side()

    try:
        with pytest.raises(PipelineError) as info:
            hangs.run(mode="local")
        # run() gave up on the call at its timeout: the call is still blocked, not finished
        assert returned == []
    finally:
        release.set()
    record = hangs.last_run
    assert (record["hang"].status, record["after"].status, record["side"].status) == (
        "failed",
        "skipped",
        "done",
    )
    assert "TaskTimeoutError" in record["hang"].error and "timeout" in record["hang"].error
    message = str(info.value)
    assert "'hang'" in message and "raise timeout=" in message
    assert pl.read_parquet(out.get_uri()).equals(OLD)
    assert record["hang"].duration >= 0.5


# -- KeyboardInterrupt ------------------------------------------------------------------------------
def test_keyboard_interrupt_raised_inside_a_task(local_provider, tmp_path):
    ex = local_provider.local()
    first = local_provider.bucket(bucket="curated", path="first.parquet")

    @ex.task()
    def write_first() -> int:
        first.write(IN)
        return 1

    @ex.task()
    def interrupted(x: int) -> int:
        raise KeyboardInterrupt

    @ex.task()
    def never(x: int) -> int:
        return x

    @pipeline(name="ctrl_c")
    def ctrl_c():
        return never(interrupted(write_first()))

    events = []
    with pytest.raises(KeyboardInterrupt):
        ctrl_c.run(mode="local", on_event=events.append)
    record = ctrl_c.last_run
    assert record.status == "cancelled" and record.error.startswith("KeyboardInterrupt")
    assert [record[n].status for n in ("write_first", "interrupted", "never")] == [
        "done",
        "failed",
        "skipped",
    ]
    assert "interrupted" in record["interrupted"].error
    assert events[-1].kind == "run_failed"
    assert pl.read_parquet(first.get_uri()).equals(IN) and leftovers(tmp_path) == []


def test_ctrl_c_while_tasks_run_in_worker_threads(local_provider, tmp_path):
    """SIGINT to the main thread (what Ctrl-C in a terminal or a kernel interrupt does)."""
    ex = local_provider.local()
    release = threading.Event()
    started = threading.Barrier(3)
    returned: list[int] = []  # the slow calls, once they are let go
    first = local_provider.bucket(bucket="curated", path="first.parquet")

    @ex.task()
    def write_first() -> int:
        first.write(IN)
        return 1

    @ex.task()
    def slow(x: int, k: int) -> int:
        started.wait(60)
        release.wait(60)
        returned.append(k)
        return x + k

    @ex.task()
    def join(a: int, b: int) -> int:
        return a + b

    @pipeline(name="ctrl_c_threads")
    def ctrl_c_threads():
        x = write_first()
        return join(slow(x, 1), slow(x, 2))

    main = threading.get_ident()

    def interrupt():
        started.wait(60)  # both slow tasks are running in worker threads
        signal.pthread_kill(main, signal.SIGINT)

    threading.Thread(target=interrupt, daemon=True).start()
    try:
        with pytest.raises(KeyboardInterrupt):
            ctrl_c_threads.run(mode="local")
        # run() returned on the interrupt, without waiting for the calls it interrupted
        assert returned == []
    finally:
        release.set()
    record = ctrl_c_threads.last_run
    assert record.status == "cancelled"
    assert [record[n].status for n in ("write_first", "slow", "slow_2", "join")] == [
        "done",
        "failed",
        "failed",
        "skipped",
    ]
    assert all("interrupted (KeyboardInterrupt)" in record[n].error for n in ("slow", "slow_2"))
    assert pl.read_parquet(first.get_uri()).equals(IN) and leftovers(tmp_path) == []
