"""Helpers shared by test folders: the repository's paths, the example scripts as modules,
and the small ETL pipeline (extract -> clean -> summarise -> publish) many tests run.

Fixtures built on these live in ``tests/conftest.py``; import the plain helpers as
``from tests.helpers import load_example``.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

import polars as pl

__all__ = [
    "EXAMPLES",
    "ORDERS",
    "ROOT",
    "UPDATE_SNAPSHOTS",
    "Etl",
    "build_etl",
    "child_env",
    "interrupt_when",
    "load_example",
    "mark_started",
    "still_running",
    "summary_of",
    "update_snapshots",
]

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
#: the one switch that rewrites every golden file (Terraform, export) from the current output
UPDATE_SNAPSHOTS = "GLACIER_UPDATE_SNAPSHOTS"


def update_snapshots() -> bool:
    """True when ``GLACIER_UPDATE_SNAPSHOTS=1``: snapshot tests rewrite their golden files."""
    return os.environ.get(UPDATE_SNAPSHOTS) == "1"


def load_example(name: str) -> ModuleType:
    """``examples/<name>.py`` imported under its own name (once; later calls return the same module).

    The module is registered in ``sys.modules`` so that what reads a task's module by name
    (``inspect.getsource``, the Terraform export, pickling) finds it, as for ``python -m``.
    """
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None, f"no example named {name!r} in {EXAMPLES}"
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a child Python process that imports ``glacier`` and ``tests``.

    Keeps the caller's ``PYTHONPATH`` (so a checkout under test stays the one imported) and
    puts the repository root first on it.
    """
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "GLACIER_PROGRESS": "0", "PYTHONPATH": path, **extra}


def mark_started(folder: str) -> None:
    """Inside a task: say which process runs it (``<folder>/started``: pid and start time)."""
    import psutil

    me = psutil.Process()
    Path(folder, "started.tmp").write_text(f"{me.pid} {me.create_time()!r}")
    os.replace(Path(folder, "started.tmp"), Path(folder, "started"))


def still_running(folder: str | Path) -> bool:
    """Whether the process that :func:`mark_started` in ``folder`` still runs (a process
    just killed is given up to 30 s to go; a zombie has gone)."""
    import psutil

    pid, created = Path(folder, "started").read_text().split()
    deadline = time.monotonic() + 30
    try:
        proc = psutil.Process(int(pid))
        if proc.create_time() != float(created):
            return False  # the pid now belongs to another process
        while proc.status() != psutil.STATUS_ZOMBIE:
            if time.monotonic() > deadline:
                return True
            time.sleep(0.05)
    except psutil.NoSuchProcess:
        pass
    return False


def interrupt_when(path: Path, *, within: float = 120.0) -> threading.Thread:
    """Press Ctrl-C (SIGINT to this process) as soon as ``path`` exists, e.g. once a task
    marked that it started; nothing is sent when it does not appear ``within`` seconds."""

    def watch() -> None:
        deadline = time.monotonic() + within
        while not path.exists():
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)
        os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=watch, name="press-ctrl-c", daemon=True)
    thread.start()
    return thread


#: the ETL's input: 1,000 orders in four regions, a seventh of them with a non-positive amount
ORDERS = pl.DataFrame(
    {
        "id": list(range(1000)),
        "region": [("north", "south", "east", "west")[i % 4] for i in range(1000)],
        "amount": [float(i % 7 - 3) for i in range(1000)],
    }
)


class Etl(NamedTuple):
    """The ETL pipeline and what it is made of."""

    provider: Any
    executor: Any
    raw: Any
    out: Any
    clean: Any
    pipeline: Any


def summary_of(orders: pl.DataFrame) -> pl.DataFrame:
    """What the ETL publishes for ``orders``, computed with polars alone."""
    return orders.filter(pl.col("amount") > 0).group_by("region").agg(pl.col("amount").sum()).sort("region")


def build_etl(
    provider: Any,
    *,
    raw: Any = None,
    out: Any = None,
    eager: bool = False,
    between: Callable[[], object] | None = None,
    name: str = "etl",
) -> Etl:
    """extract -> clean -> summarise -> publish on ``provider``'s local executor.

    ``raw`` and ``out`` default to ``raw/orders.parquet`` and ``curated/summary.parquet``;
    nothing is written. ``eager``: extract reads the object instead of scanning it.
    ``between``: called inside ``clean``, after extract finished and before publish starts.
    """
    from glacier import pipeline

    ex = provider.local()
    raw = raw if raw is not None else provider.bucket(bucket="raw", path="orders.parquet")
    out = out if out is not None else provider.bucket(bucket="curated", path="summary.parquet")

    @ex.task()
    def extract(source) -> pl.LazyFrame:
        return source.read().lazy() if eager else source.scan()

    @ex.task()
    def clean(df: pl.LazyFrame) -> pl.LazyFrame:
        if between is not None:
            between()
        return df.filter(pl.col("amount") > 0)

    @ex.task()
    def summarise(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.group_by("region").agg(pl.col("amount").sum()).sort("region")

    @ex.task()
    def publish(df: pl.LazyFrame, target) -> pl.LazyFrame:
        target.write(df)
        return target.scan()

    @pipeline(name=name)
    def etl():
        """Orders to a summary."""
        return publish(summarise(clean(extract(raw))), out)

    return Etl(provider, ex, raw, out, clean, etl)
