"""The task cache: ``@executor.task(cache=True)`` reuses outputs in the notebook loop.

An entry's key is a hash of

- the task's source code (and the simple constants it reads from globals/closures),
- its executor's kind and config,
- its arguments: frames by content (DataFrame) or plan (LazyFrame), outputs of
  cached tasks by the key that produced them, buckets by their objects' fingerprints,
- the fingerprints (ETag, or size + mtime) of every bucket the task and its
  upstream tasks read.

Entries live in a folder (default ``.glacier/cache`` under the working directory;
``GLACIER_CACHE_DIR`` or :func:`set_cache_dir` change it), one sub-folder per entry,
written to a temporary folder and renamed into place, so a reader sees a whole
entry or none. Lazy outputs are materialised once when stored (a plain scan of local files is
kept as its plan: re-reading costs nothing). A task that writes
buckets is a hit only while the objects it wrote are still there, unchanged.
Entries also stay in memory for the life of the process (the fast path).
"""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import threading
import time
import uuid
import weakref
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from glacier.graph import Output, rebuild, walk
from glacier.run.fingerprint import (
    code_fingerprint,
    digest,
    executor_fingerprint,
    frame_fingerprint,
    storage_fingerprint,
    value_bytes,
)

if TYPE_CHECKING:
    from glacier.graph import Node
    from glacier.resources.bucket import Bucket

__all__ = ["TaskCache", "ReadOnlyCache", "default_cache", "cache_dir", "set_cache_dir", "CACHE_ENV"]

#: Environment variable naming the cache folder.
CACHE_ENV = "GLACIER_CACHE_DIR"
_DEFAULT = Path(".glacier") / "cache"
_configured: Path | None = None
_instances: dict[Path, TaskCache] = {}
_instances_lock = threading.Lock()


def set_cache_dir(path: str | os.PathLike[str] | None) -> None:
    """Use ``path`` for cached outputs from now on (``None``: back to the default)."""
    global _configured
    _configured = Path(path) if path is not None else None


def cache_dir() -> Path:
    """The cache folder: :func:`set_cache_dir`, else ``$GLACIER_CACHE_DIR``, else ``.glacier/cache``."""
    if _configured is not None:
        return _configured.absolute()
    env = os.environ.get(CACHE_ENV)
    return Path(env).absolute() if env else _DEFAULT.absolute()


def default_cache() -> TaskCache:
    """The process-wide cache for :func:`cache_dir` (one per folder, so the in-memory
    layer is shared by every run in this process)."""
    root = cache_dir()
    with _instances_lock:
        cache = _instances.get(root)
        if cache is None:
            cache = _instances[root] = TaskCache(root)
        return cache


class TaskCache:
    """Cached task outputs in ``root`` (see the module docstring for the key).

    Parameters
    ----------
    root : path
        The cache folder; created on first store.
    memory_items : int
        How many entries to keep in memory for fast same-process hits.
    memory_frame_bytes : int
        Lazy outputs larger than this are held as a scan of their file, not in memory.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        memory_items: int = 64,
        memory_frame_bytes: int = 256 * 1024 * 1024,
    ) -> None:
        self.root = Path(root)
        self.memory_items = memory_items
        self.memory_frame_bytes = memory_frame_bytes
        self._memory: OrderedDict[str, tuple[Any, dict[str, str]]] = OrderedDict()
        self._produced: dict[int, tuple[weakref.ref[Any] | Any, str]] = {}
        self._pending: dict[int, str] = {}
        self._rows: dict[str, int | None] = {}
        self._lock = threading.RLock()

    # -- the runner's interface ----------------------------------------------------------
    def lookup(self, node: Node, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[bool, Any]:
        """``(True, value)`` when an entry for this call exists, else ``(False, None)``."""
        key = self.key(node, args, kwargs)
        with self._lock:
            self._pending[id(node)] = key
            held = self._memory.get(key)
            if held is not None:
                value, writes = held
                if self._writes_unchanged(node, writes):
                    self._memory.move_to_end(key)
                    self._register(value, key)
                    return True, value
                del self._memory[key]
        loaded = self._load(node, key)
        if loaded is None:
            return False, None
        value, writes = loaded
        with self._lock:
            self._remember(key, value, writes)
        return True, value

    def store(self, node: Node, args: tuple[Any, ...], kwargs: dict[str, Any], value: Any) -> Any:
        """Materialise ``value``, save it under this call's key and return what the
        runner should pass on (a ``LazyFrame`` over the stored data for lazy outputs)."""
        with self._lock:
            key = self._pending.pop(id(node), None)
        if key is None:
            key = self.key(node, args, kwargs)
        plain_scan = _is_local_scan(value) and _scans_a_bucket(value, node)
        if not plain_scan:
            value = _materialise(value)
        writes = {b.get_uri(): storage_fingerprint(b) for b in node.writes}
        saved = self._save(node, key, value, writes, plan=plain_scan)
        held = value
        if (
            saved
            and not plain_scan
            and isinstance(value, pl.LazyFrame)
            and value.collect().estimated_size() > self.memory_frame_bytes
        ):
            held = pl.scan_ipc(self._entry(key) / "value.arrow")  # big: later hits read the file
        with self._lock:
            self._remember(key, held, writes)
            self._register(value, key)
        return value

    # -- lazy outputs: kept after the run's collection computed them ----------------------
    def reserve(self, node: Node, args: tuple[Any, ...], kwargs: dict[str, Any], value: Any) -> str:
        """The key of a lazy output the run is about to compute; ``value`` counts as produced
        by it (so downstream keys stay cheap). :meth:`save_computed` keeps it afterwards."""
        with self._lock:
            key = self._pending.pop(id(node), None)
        if key is None:
            key = self.key(node, args, kwargs)
        with self._lock:
            self._register(value, key)
        return key

    def keeps_plan(self, node: Node, value: pl.LazyFrame) -> bool:
        """Whether ``value``'s plan can stand for its data: it scans only local files of the
        pipeline's buckets (their fingerprints are in the key) and calls no Python code.
        Otherwise (object-store scans may carry credentials; a Python function may be costly
        or impure) the data is kept."""
        try:
            text = value.explain(optimized=False)
        except Exception:
            return False
        if "://" in text or "PYTHON" in text.upper():
            return False
        stems = [
            re.split(r"[*?\[]", b.get_uri(), maxsplit=1)[0] for b in (*_reads_upstream(node), *node.writes)
        ]
        for line in text.splitlines():
            if " SCAN [" in line.upper() and not line.strip().upper().startswith("DF "):
                if not any(stem and stem in line for stem in stems):
                    return False
        return True

    def save_computed(
        self,
        node: Node,
        key: str,
        value: pl.LazyFrame,
        *,
        frame: pl.DataFrame | None = None,
        file: Path | None = None,
        rows: int | None = None,
    ) -> None:
        """Keep a lazy output the run computed: the collected ``frame``, an IPC ``file`` the
        collection wrote, or else its plan (see :meth:`keeps_plan`). It is held in memory at
        once and written to disk in the background (an entry appears whole or not at all)."""
        writes = {b.get_uri(): storage_fingerprint(b) for b in node.writes}
        held: pl.LazyFrame = frame.lazy() if frame is not None else value
        if file is not None:
            held = pl.scan_ipc(file)
        with self._lock:
            self._rows[key] = rows
            self._remember(key, held, writes)
            self._register(value, key)
        plan = frame is None and file is None
        stored: Any = held if frame is not None else value  # a lazy output stays lazy when loaded
        # a big frame is held as a scan of its entry once written, as a file always is
        to_file = file is not None or (frame is not None and frame.estimated_size() > self.memory_frame_bytes)
        _BACKGROUND.submit(self._save_quietly, node, key, stored, writes, plan, rows, file, to_file)

    def _save_quietly(
        self,
        node: Node,
        key: str,
        value: Any,
        writes: dict[str, str],
        plan: bool,
        rows: int | None,
        file: Path | None,
        to_file: bool,
    ) -> None:
        try:
            self._save(node, key, value, writes, plan=plan, rows=rows, file=file)
            if to_file:
                with self._lock:  # later hits read the entry's copy
                    held = self._memory.get(key)
                    if held is not None:
                        self._memory[key] = (pl.scan_ipc(self._entry(key) / "value.arrow"), held[1])
        except Exception as exc:
            import logging

            logging.getLogger("glacier").warning(
                "could not keep %s in the cache %s: %s", node.id, self.root, exc
            )

    def staging_file(self) -> Path:
        """A fresh file in the cache's own staging folder (for a collection to write into)."""
        tmp_root = self.root / ".tmp"
        tmp_root.mkdir(parents=True, exist_ok=True)
        return tmp_root / f"computed-{uuid.uuid4().hex[:16]}.arrow"

    def rows_for(self, node: Node) -> int | None:
        """The rows of the entry the last lookup of ``node`` found (kept with the entry)."""
        with self._lock:
            key = self._pending.get(id(node))
            return self._rows.get(key) if key is not None else None

    @staticmethod
    def wait() -> None:
        """Wait until every entry being written in the background is on disk."""
        _BACKGROUND.submit(lambda: None).result()

    # -- keys ------------------------------------------------------------------------------
    def key(self, node: Node, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        """The entry key of calling ``node``'s task with these (resolved) arguments."""
        task = node.task
        written = {id(b) for b in node.writes}
        parts: list[str | bytes] = [
            "glacier-cache-v1",
            code_fingerprint(task),
            executor_fingerprint(task.executor),
            self._value_fp(args, written),
            self._value_fp(kwargs, written),
        ]
        for bucket in _reads_upstream(node):
            if id(bucket) not in written:
                parts.append(storage_fingerprint(bucket))
        return digest(*parts)

    def _value_fp(self, value: Any, written: set[int]) -> str:
        from glacier.resources.bucket import Bucket

        produced = self._produced.get(id(value))
        if produced is not None and _deref(produced[0]) is value:
            return "out:" + produced[1]
        if isinstance(value, (pl.DataFrame, pl.LazyFrame)):
            return frame_fingerprint(value)
        if isinstance(value, Bucket):
            if id(value) in written:
                return digest("target", value.get_uri())
            return storage_fingerprint(value)
        if isinstance(value, (tuple, list)):
            return digest(type(value).__name__, *(self._value_fp(v, written) for v in value))
        if isinstance(value, dict):
            return digest(
                "dict", *(f"{k!r}={self._value_fp(v, written)}" for k, v in sorted(value.items(), key=repr))
            )
        return digest("value", value_bytes(value))

    # -- memory layer ----------------------------------------------------------------------
    def _remember(self, key: str, value: Any, writes: dict[str, str]) -> None:
        self._memory[key] = (value, writes)
        self._memory.move_to_end(key)
        while len(self._memory) > self.memory_items:
            self._memory.popitem(last=False)
        self._register(value, key)

    def _register(self, value: Any, key: str) -> None:
        for item in (value, *(walk(value) if isinstance(value, (tuple, list, dict)) else ())):
            try:
                ref: Any = weakref.ref(item)
            except TypeError:
                continue  # plain values (ints, strings, tuples) are fingerprinted by value
            self._produced[id(item)] = (ref, key)
        if len(self._produced) > 4 * self.memory_items:
            live = {k: v for k, v in self._produced.items() if _deref(v[0]) is not None}
            self._produced = live

    def _writes_unchanged(self, node: Node, writes: dict[str, str]) -> bool:
        if not writes:
            return True
        current = {b.get_uri(): b for b in node.writes}
        for uri, fingerprint in writes.items():
            bucket = current.get(uri)
            if bucket is None or storage_fingerprint(bucket) != fingerprint:
                return False
        return True

    # -- disk layer ------------------------------------------------------------------------
    def _entry(self, key: str) -> Path:
        return self.root / key[:2] / key

    def _load(self, node: Node, key: str) -> tuple[Any, dict[str, str]] | None:
        entry = self._entry(key)
        try:
            meta = json.loads((entry / "meta.json").read_text())
        except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError):
            return None
        writes = meta.get("writes", {})
        if not self._writes_unchanged(node, writes):
            return None
        kind = meta["kind"]
        with self._lock:
            self._rows[key] = meta.get("rows")
        try:
            if kind == "plan":  # a plain scan of local files: the plan is the output
                return pl.LazyFrame.deserialize(entry / "value.plan", format="binary"), writes
            if kind == "lazy":  # stays lazy: read only if a downstream plan needs it
                return pl.scan_ipc(entry / "value.arrow"), writes
            if kind == "frame":
                return pl.read_ipc(entry / "value.arrow"), writes
            with open(entry / "value.pkl", "rb") as fh:
                return pickle.load(fh), writes
        except Exception:
            return None  # an unreadable entry is a miss; the next store replaces it

    def _save(
        self,
        node: Node,
        key: str,
        value: Any,
        writes: dict[str, str],
        *,
        plan: bool = False,
        rows: int | None = None,
        file: Path | None = None,
    ) -> bool:
        entry = self._entry(key)
        tmp_root = self.root / ".tmp"
        tmp_root.mkdir(parents=True, exist_ok=True)
        tmp = tmp_root / f"{key[:16]}-{uuid.uuid4().hex[:12]}"
        tmp.mkdir()
        try:
            if plan:
                kind = "plan"
                (tmp / "value.plan").write_bytes(value.serialize(format="binary"))
            elif file is not None:  # written by the run's collection: moved in
                kind = "lazy"
                os.replace(file, tmp / "value.arrow")
            elif isinstance(value, (pl.DataFrame, pl.LazyFrame)):
                kind = "lazy" if isinstance(value, pl.LazyFrame) else "frame"
                df = value.collect() if isinstance(value, pl.LazyFrame) else value
                df.write_ipc(tmp / "value.arrow", compression="uncompressed")
            else:
                kind = "pickle"
                try:
                    data = pickle.dumps(value, protocol=5)
                except Exception:
                    shutil.rmtree(tmp, ignore_errors=True)
                    return False  # not picklable: kept in memory only
                (tmp / "value.pkl").write_bytes(data)
            meta = {
                "task": node.task.name,
                "executor": node.task.executor.name,
                "kind": kind,
                "created": time.time(),
                "writes": writes,
                "rows": rows,
            }
            (tmp / "meta.json").write_text(json.dumps(meta))
            entry.parent.mkdir(parents=True, exist_ok=True)
            if entry.exists():  # a stale entry (its written objects changed): swap it out
                old = tmp_root / f"old-{uuid.uuid4().hex[:12]}"
                try:
                    os.rename(entry, old)
                except OSError:
                    pass
                shutil.rmtree(old, ignore_errors=True)
            try:
                os.rename(tmp, entry)  # atomic: the entry appears whole
            except OSError:
                shutil.rmtree(tmp, ignore_errors=True)  # another writer won the race
            return True
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    # -- housekeeping ------------------------------------------------------------------------
    def clear(self) -> None:
        """Forget every entry, in memory and on disk."""
        with self._lock:
            self._memory.clear()
            self._produced.clear()
        shutil.rmtree(self.root, ignore_errors=True)

    def forget_memory(self) -> None:
        """Drop the in-memory layer (entries on disk stay): what a kernel restart does."""
        with self._lock:
            self._memory.clear()
            self._produced.clear()

    def __len__(self) -> int:
        if not self.root.exists():
            return 0
        return sum(1 for p in self.root.glob("??/*") if (p / "meta.json").exists())

    def __repr__(self) -> str:
        return f"TaskCache({str(self.root)!r})"


class ReadOnlyCache:
    """A cache used for hits only (previews): storing materialises a task's whole output,
    and a preview wants only its first rows."""

    def __init__(self, cache: TaskCache) -> None:
        self._cache = cache

    def lookup(self, node: Node, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[bool, Any]:
        return self._cache.lookup(node, args, kwargs)

    def store(self, node: Node, args: tuple[Any, ...], kwargs: dict[str, Any], value: Any) -> Any:
        return value

    def reserve(self, node: Node, args: tuple[Any, ...], kwargs: dict[str, Any], value: Any) -> str:
        return ""

    def rows_for(self, node: Node) -> int | None:
        return self._cache.rows_for(node)


#: Writes cache entries to disk after the run goes on (joined when the interpreter exits).
_BACKGROUND = ThreadPoolExecutor(max_workers=1, thread_name_prefix="glacier-cache")


def _deref(ref: Any) -> Any:
    return ref() if isinstance(ref, weakref.ref) else ref


_SCAN_LINE = ("PARQUET SCAN [", "IPC SCAN [", "CSV SCAN [", "NDJSON SCAN [", "JSON SCAN [")


def _is_local_scan(value: Any) -> bool:
    """A LazyFrame that only scans local files (``source.scan()``): re-running the plan
    costs nothing, so the plan itself is cached, not a copy of the data. (Object-store scans
    are materialised: their plans may carry credentials.)"""
    if not isinstance(value, pl.LazyFrame):
        return False
    try:
        lines = value.explain(optimized=False).splitlines()
    except Exception:
        return False
    if not lines or not lines[0].upper().startswith(_SCAN_LINE) or "://" in lines[0]:
        return False
    return all(line.startswith(("PROJECT ", "ESTIMATED ROWS")) for line in lines[1:])


def _scans_a_bucket(value: pl.LazyFrame, node: Node) -> bool:
    """Whether the scanned files belong to a bucket of the pipeline (they persist), not to a
    temporary file such as a distributed run's staging area."""
    first = value.explain(optimized=False).splitlines()[0]
    for bucket in (*_reads_upstream(node), *node.writes):
        stem = re.split(r"[*?\[]", bucket.get_uri(), maxsplit=1)[0]
        if stem and stem in first:
            return True
    return False


def _materialise(value: Any) -> Any:
    """Collect lazy frames (the cache stores data, not plans); keep the lazy type."""
    return rebuild(value, lambda item: item.collect().lazy() if isinstance(item, pl.LazyFrame) else item)


def _reads_upstream(node: Node) -> list[Bucket]:
    """Buckets read by ``node`` and every task upstream of it, once each, in a stable order."""
    seen_nodes: set[int] = set()
    found: dict[str, Bucket] = {}
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in seen_nodes:
            continue
        seen_nodes.add(id(current))
        for bucket in current.reads:
            found.setdefault(bucket.get_uri(), bucket)
        for item in (*walk(current.args), *walk(current.kwargs)):
            if isinstance(item, Output):
                stack.append(item.node)
    return [found[uri] for uri in sorted(found)]
