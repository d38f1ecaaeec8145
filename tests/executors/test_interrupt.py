"""Ctrl-C with the interpreter kept alive (as Jupyter does): an interrupted run starts no
new task and its record is final, and true, when ``run()`` returns (issue 19, item 4)."""

from __future__ import annotations

import signal
import threading

import pytest

from glacier import pipeline


def _interrupt_when(ready: threading.Barrier) -> None:
    """SIGINT to the main thread (what a kernel interrupt does) once ``ready`` is passed."""
    main = threading.main_thread().ident
    assert main is not None

    def fire() -> None:
        ready.wait(30)
        signal.pthread_kill(main, signal.SIGINT)

    threading.Thread(target=fire, daemon=True).start()


def _join_glacier_threads() -> list[str]:
    """Wait for the run's worker threads; the names of those still alive after 30 s."""
    threads = [t for t in threading.enumerate() if t.name.startswith("glacier-")]
    for thread in threads:
        thread.join(30)
    return [t.name for t in threads if t.is_alive()]


def _snapshot(record) -> list[tuple]:
    return [(t.node, t.status, t.attempts, t.error, t.start, t.end) for t in record.tasks.values()]


def test_an_interrupted_run_starts_no_queued_task(local_provider):
    ex = local_provider.local()
    started: list[int] = []
    release = threading.Event()
    running = threading.Barrier(3)  # the two worker threads and the interrupter

    @ex.task()
    def sleepy(i: int) -> int:
        started.append(i)
        if len(started) <= 2:
            running.wait(30)
        release.wait(30)
        return i

    @ex.task()
    def total(*xs: int) -> int:
        return sum(xs)

    @pipeline(name="sleepers")
    def sleepers():
        return total(*[sleepy(i) for i in range(8)])

    _interrupt_when(running)
    try:
        with pytest.raises(KeyboardInterrupt):
            sleepers.run(max_workers=2)
    finally:
        record = sleepers.last_run
        when_returned = _snapshot(record)
        release.set()
    assert _join_glacier_threads() == []
    assert sorted(started) == [0, 1]  # the six queued tasks never started
    assert _snapshot(record) == when_returned  # final when run() returned
    assert record.status == "cancelled"
    statuses = {t.node: t.status for t in record.tasks.values()}
    assert [statuses[n] for n in ("sleepy", "sleepy_2")] == ["failed", "failed"]
    assert all(statuses[f"sleepy_{i}"] == "skipped" for i in range(3, 9))
    assert statuses["total"] == "skipped"
    assert "interrupted (KeyboardInterrupt) while running" in record["sleepy"].error
    assert "may still finish in the background" in record["sleepy"].error  # what really happens


def test_an_interrupted_run_does_not_retry(local_provider):
    ex = local_provider.local()
    calls: list[int] = []
    failed_once = threading.Barrier(2)

    @ex.task(retries=3, retry_delay=600)
    def flaky(i: int) -> int:
        calls.append(i)
        failed_once.wait(30)
        raise RuntimeError("transient")

    @ex.task()
    def other(i: int) -> int:
        return i

    @pipeline(name="flaky")
    def flaky_pipeline():
        return flaky(1), other(2)

    _interrupt_when(failed_once)
    with pytest.raises(KeyboardInterrupt):
        flaky_pipeline.run(max_workers=2)
    record = flaky_pipeline.last_run
    when_returned = _snapshot(record)
    assert _join_glacier_threads() == []  # the retry wait ended with the run, not 600 s later
    assert calls == [1]  # no second attempt after Ctrl-C
    assert _snapshot(record) == when_returned
    assert record["flaky"].attempts == 1 and record["flaky"].status == "failed"
