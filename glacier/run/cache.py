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
entry or none. A published entry never changes: a second writer of the same entry
does nothing, and a task that writes buckets gets one entry per state of what it wrote,
so several processes can share the folder. A cache that cannot store (a full disk, a
read-only folder) warns once, naming the folder, and the run goes on.

A hit behaves like a fresh call: every hit hands out its own copy (frames are cloned,
other values unpickled), so a downstream task that mutates its input changes no entry.
A value that cannot be copied (a generator, an open file) is not cached: the task runs
every time, with a warning. Lazy outputs are materialised once when stored (a plain scan of local files is
kept as its plan: re-reading costs nothing). A task that writes
buckets is a hit only while the objects it wrote are still there, unchanged.
Entries also stay in memory for the life of the process (the fast path).
"""

from __future__ import annotations

import datetime
import decimal
import json
import os
import pickle
import shutil
import threading
import time
import uuid
import warnings
import weakref
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from glacier.graph import rebuild, walk
from glacier.run.cache_plans import is_local_scan as _is_local_scan
from glacier.run.cache_plans import keeps_plan
from glacier.run.cache_plans import reads_upstream as _reads_upstream
from glacier.run.cache_plans import scans_a_bucket as _scans_a_bucket
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

__all__ = [
    "TaskCache",
    "ReadOnlyCache",
    "CacheWarning",
    "default_cache",
    "cache_dir",
    "set_cache_dir",
    "CACHE_ENV",
]

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
        self._memory: OrderedDict[str, tuple[tuple[str, Any], dict[str, str]]] = OrderedDict()
        self._produced: dict[int, tuple[weakref.ref[Any] | Any, str]] = {}
        self._pending: dict[int, str] = {}
        self._rows: dict[str, int | None] = {}
        self._lock = threading.RLock()
        self._warned = False
        self._refused: set[str] = set()

    # -- the runner's interface ----------------------------------------------------------
    def lookup(self, node: Node, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[bool, Any]:
        """``(True, value)`` when an entry for this call exists, else ``(False, None)``.
        Every hit hands out its own copy; a cache that cannot be read is a miss."""
        try:
            key = self.key(node, args, kwargs)
        except Exception as exc:
            self._cannot_use(exc)
            return False, None
        with self._lock:
            self._pending[id(node)] = key
            held = self._memory.get(key)
            if held is not None:
                kept, writes = held
                if self._writes_unchanged(node, writes):
                    self._memory.move_to_end(key)
                    value = _hand_out(kept)
                    self._register(value, key)
                    return True, value
                del self._memory[key]
        try:
            loaded = self._load(node, key)
        except Exception as exc:
            self._cannot_use(exc)
            return False, None
        if loaded is None:
            return False, None
        kept, writes = loaded
        value = _hand_out(kept)
        with self._lock:
            self._remember(key, kept, writes)
            self._register(value, key)
        return True, value

    def store(self, node: Node, args: tuple[Any, ...], kwargs: dict[str, Any], value: Any) -> Any:
        """Materialise ``value``, save it under this call's key and return what the
        runner should pass on (a ``LazyFrame`` over the stored data for lazy outputs).

        A value that cannot be copied (a generator, an open file) is not cached: a hit must
        behave like a fresh call. A cache that cannot store warns once and the run goes on."""
        plain_scan = _is_local_scan(value) and _scans_a_bucket(value, node)
        if not plain_scan:
            value = _materialise(value)  # the task's own plan failing is the task's failure
        kept = ("tree", value) if plain_scan else _keepable(value)
        if kept is None:
            self._not_cacheable(node, value)
            return value
        try:
            with self._lock:
                key = self._pending.pop(id(node), None)
            if key is None:
                key = self.key(node, args, kwargs)
            writes = {b.get_uri(): storage_fingerprint(b) for b in node.writes}
            saved = self._save(node, key, value, writes, kept=kept, plan=plain_scan)
        except Exception as exc:
            self._cannot_use(exc)
            return value
        if (
            saved
            and not plain_scan
            and isinstance(value, pl.LazyFrame)
            and value.collect().estimated_size() > self.memory_frame_bytes
        ):
            kept = ("tree", pl.scan_ipc(self._entry(key, writes) / "value.arrow"))  # big: hits read the file
        handed = _hand_out(kept)  # downstream gets its own copy: mutating it changes no entry
        with self._lock:
            self._remember(key, kept, writes)
            self._register(handed, key)
        return handed

    def _cannot_use(self, exc: BaseException) -> None:
        """Warn once (per cache folder) that the cache cannot be used; the run goes on."""
        if self._warned:
            return
        self._warned = True
        warnings.warn(
            f"the task cache cannot store in {self.root} ({type(exc).__name__}: {exc}); "
            "the run goes on without it (free some space, or point GLACIER_CACHE_DIR at a writable folder)",
            CacheWarning,
            stacklevel=2,
        )

    def _not_cacheable(self, node: Node, value: Any) -> None:
        name = node.task.name
        if name in self._refused:
            return
        self._refused.add(name)
        warnings.warn(
            f"task {name!r} returned a {type(value).__name__}, which cannot be cached: a cache hit must "
            "behave like a fresh call, and this value cannot be copied (a generator is consumed once). "
            "It runs every time; return a list, a dict or a polars frame to cache it",
            CacheWarning,
            stacklevel=2,
        )

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
        """Whether ``value``'s plan can stand for its data (see :func:`glacier.run.cache_plans.keeps_plan`)."""
        return keeps_plan(node, value)

    def save_computed(
        self,
        node: Node,
        key: str,
        value: pl.LazyFrame,
        *,
        frame: pl.DataFrame | None = None,
        file: Path | None = None,
        rows: int | None = None,
        materialise: bool = False,
    ) -> None:
        """Keep a lazy output the run computed: the collected ``frame``, an IPC ``file`` the
        collection wrote, its data computed again in the background (``materialise``), or else
        its plan (see :meth:`keeps_plan`). It is held in memory at once and written to disk in
        the background (an entry appears whole or not at all)."""
        if materialise:
            _BACKGROUND.submit(self._materialise_quietly, node, key, value, rows)
            return
        writes = {b.get_uri(): storage_fingerprint(b) for b in node.writes}
        held: pl.LazyFrame = frame.lazy() if frame is not None else value
        if file is not None:
            held = pl.scan_ipc(file)
        with self._lock:
            self._rows[key] = rows
            self._remember(key, ("tree", held), writes)
            self._register(value, key)
        plan = frame is None and file is None
        stored: Any = held if frame is not None else value  # a lazy output stays lazy when loaded
        # a big frame is held as a scan of its entry once written, as a file always is
        to_file = file is not None or (frame is not None and frame.estimated_size() > self.memory_frame_bytes)
        if threading.current_thread().name.startswith(_BACKGROUND_NAME):  # already in the background
            self._save_quietly(node, key, stored, writes, plan, rows, file, to_file)
            return
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
            self._save(node, key, value, writes, kept=("tree", value), plan=plan, rows=rows, file=file)
            if to_file:
                with self._lock:  # later hits read the entry's copy
                    held = self._memory.get(key)
                    if held is not None:
                        scan = pl.scan_ipc(self._entry(key, writes) / "value.arrow")
                        self._memory[key] = (("tree", scan), held[1])
        except Exception as exc:
            import logging

            logging.getLogger("glacier").warning(
                "could not keep %s in the cache %s: %s", node.id, self.root, exc
            )

    def _materialise_quietly(self, node: Node, key: str, value: pl.LazyFrame, rows: int | None) -> None:
        try:
            frame = value.collect()
        except Exception:
            return  # the run computed it once; a failure now only means no entry
        self.save_computed(node, key, value, frame=frame, rows=rows if rows is not None else frame.height)

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
    def _remember(self, key: str, kept: tuple[str, Any], writes: dict[str, str]) -> None:
        self._memory[key] = (kept, writes)
        self._memory.move_to_end(key)
        while len(self._memory) > self.memory_items:
            self._memory.popitem(last=False)

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
    def _entry(self, key: str, writes: dict[str, str]) -> Path:
        """An entry's folder. A task that writes buckets gets one entry per state of what it
        wrote, so an entry is never replaced: once published it stays as it is."""
        name = key if not writes else f"{key}-{digest(*sorted(f'{u}={f}' for u, f in writes.items()))[:16]}"
        return self.root / key[:2] / name

    def _load(self, node: Node, key: str) -> tuple[tuple[str, Any], dict[str, str]] | None:
        now = {b.get_uri(): storage_fingerprint(b) for b in node.writes}
        entry = self._entry(key, now)
        try:
            meta = json.loads((entry / "meta.json").read_text())
        except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError):
            return None
        writes = meta.get("writes", {})
        if writes != now:
            return None
        kind = meta["kind"]
        with self._lock:
            self._rows[key] = meta.get("rows")
        try:
            if kind == "plan":  # a plain scan of local files: the plan is the output
                return ("tree", pl.LazyFrame.deserialize(entry / "value.plan", format="binary")), writes
            if kind == "lazy":  # stays lazy: read only if a downstream plan needs it
                return ("tree", pl.scan_ipc(entry / "value.arrow")), writes
            if kind == "frame":
                return ("tree", pl.read_ipc(entry / "value.arrow")), writes
            return ("pickle", (entry / "value.pkl").read_bytes()), writes
        except Exception:
            return None  # an unreadable entry is a miss

    def _save(
        self,
        node: Node,
        key: str,
        value: Any,
        writes: dict[str, str],
        *,
        kept: tuple[str, Any] | None = None,
        plan: bool = False,
        rows: int | None = None,
        file: Path | None = None,
    ) -> bool:
        """Write the entry to a temporary folder and publish it with one rename, which fails
        when the entry exists (another writer was first): a published entry never changes.
        ``file``: an IPC file already written (by the run's collection), moved in."""
        entry = self._entry(key, writes)
        if entry.exists():
            if file is not None:
                file.unlink(missing_ok=True)
            return True
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
                data = kept[1] if kept is not None and kept[0] == "pickle" else _pickled(value)
                if data is None:
                    return False  # kept as is in memory (a bucket, a tree of frames): not on disk
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
            try:
                os.rename(tmp, entry)  # atomic: the entry appears whole, or not at all
            except OSError:
                if not entry.exists():
                    raise
            return True
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # gone after a publish; a failed write leaves nothing

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


class CacheWarning(UserWarning):
    """The cache could not store something; the run went on without it."""


_KEPT_AS_IS: tuple[type, ...] = (
    int,
    float,
    complex,
    str,
    bytes,
    bool,
    type(None),
    decimal.Decimal,
    datetime.date,
    datetime.time,
    datetime.timedelta,
    pl.LazyFrame,
)
_COPIED = (pl.DataFrame, pl.Series)


def _keepable(value: Any) -> tuple[str, Any] | None:
    """What the memory layer keeps so that every hit hands out a value that behaves like a
    fresh call's: frames and immutable values as they are (containers and frames are copied
    when handed out), anything else as a pickle; ``None`` for a value that cannot be copied."""
    from glacier.resources.bucket import Bucket

    if all(isinstance(leaf, (*_KEPT_AS_IS, *_COPIED, Bucket)) for leaf in walk(value)):
        return ("tree", value)
    data = _pickled(value)
    return ("pickle", data) if data is not None else None


def _pickled(value: Any) -> bytes | None:
    try:
        return pickle.dumps(value, protocol=5)
    except Exception:
        return None


def _hand_out(kept: tuple[str, Any]) -> Any:
    """A fresh copy of a kept value: new containers, cloned frames (a cheap copy), or unpickled."""
    kind, data = kept
    if kind == "pickle":
        return pickle.loads(data)
    return rebuild(data, lambda item: item.clone() if isinstance(item, _COPIED) else item)


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
_BACKGROUND_NAME = "glacier.cache-writer"
_BACKGROUND = ThreadPoolExecutor(max_workers=1, thread_name_prefix=_BACKGROUND_NAME)


def _deref(ref: Any) -> Any:
    return ref() if isinstance(ref, weakref.ref) else ref


def _materialise(value: Any) -> Any:
    """Collect lazy frames (the cache stores data, not plans); keep the lazy type."""
    return rebuild(value, lambda item: item.collect().lazy() if isinstance(item, pl.LazyFrame) else item)
