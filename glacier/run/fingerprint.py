"""Fingerprints for the task cache: code, configs, values and stored objects.

Every function here returns a short hex digest that changes when the thing it
describes changes, and stays the same across processes when it does not.
"""

from __future__ import annotations

import hashlib
import inspect
import linecache
import marshal
import pickle
from typing import TYPE_CHECKING, Any

import polars as pl

from glacier.run.code_deps import code_parts

if TYPE_CHECKING:
    from glacier.resources.bucket import Bucket
    from glacier.resources.executor import Executor
    from glacier.task import Task

__all__ = ["code_fingerprint", "executor_fingerprint", "frame_fingerprint", "storage_fingerprint", "digest"]

_SIMPLE = (str, int, float, bool, bytes, type(None))


def digest(*parts: str | bytes) -> str:
    """sha256 of the parts, hex."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\x00")
    return h.hexdigest()


def code_fingerprint(task: Task) -> str:
    """The task's source (or bytecode), plus the plain constants it reads from globals and
    closures (``THRESHOLD = 5`` in another cell counts as code) and the code of the helper
    functions it calls, see :func:`glacier.run.code_deps.code_parts`."""
    fn = getattr(task, "source_fn", task.fn)  # a partition map is keyed on its task's code
    into = getattr(task, "into", None)
    try:
        source = function_source(fn)
    except (OSError, TypeError):
        source = marshal.dumps(fn.__code__)
    parts: list[str | bytes] = [type(task).__name__, task.name, source]
    if into is not None:
        parts.append(f"into:{into.get_uri()}")
    parts.extend(code_parts(fn))  # constants it reads, helpers it calls (glacier.run.code_deps)
    return digest(*parts)


def function_source(fn: Any) -> bytes:
    """The lines of ``fn``'s definition (decorators to its last line, nested functions
    included), as ``inspect.getsource`` gives them but without tokenizing the file (which
    costs a fresh process tens of milliseconds). Raises ``OSError`` when the source is unknown."""
    fn = inspect.unwrap(fn)
    code = getattr(fn, "__code__", None)
    if code is None:
        return inspect.getsource(fn).encode()
    lines = linecache.getlines(code.co_filename)
    if not lines:
        return inspect.getsource(fn).encode()  # raises OSError when there is no source at all
    first = code.co_firstlineno
    end = max(_last_line(code), first)
    head = lines[first - 1]
    indent = len(head) - len(head.lstrip())
    for i in range(first - 1, min(end + 50, len(lines))):  # past the decorators: the def line
        if lines[i].lstrip().startswith(("def ", "async def ")):
            end = max(end, i + 1)
            break
    while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > indent):
        end += 1  # closing brackets and blank lines of the body (they hold no instructions)
    while end > first and not lines[end - 1].strip():
        end -= 1
    return "".join(lines[first - 1 : end]).encode()


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _last_line(code: Any) -> int:
    last = max((line for _, _, line in code.co_lines() if line is not None), default=code.co_firstlineno)
    for const in code.co_consts:
        if hasattr(const, "co_lines"):
            last = max(last, _last_line(const))
    return last


def executor_fingerprint(executor: Executor) -> str:
    """Kind and config of the executor (secrets masked)."""
    config = executor.config
    body = "" if config is None else f"{type(config).__name__}:{sorted(config.public_dict().items())!r}"
    return digest(executor.kind, body)


def frame_fingerprint(value: pl.DataFrame | pl.LazyFrame) -> str:
    """Content of a DataFrame (row hashes + schema), or the serialised plan of a LazyFrame."""
    if isinstance(value, pl.LazyFrame):
        try:
            return digest("plan", value.serialize(format="binary"))
        except Exception:
            return digest("plan-text", value.explain(optimized=False))
    schema = repr(list(value.schema.items()))
    try:
        rows = value.hash_rows(seed=0, seed_1=1, seed_2=2, seed_3=3)
        return digest("frame", schema, rows.to_numpy().tobytes())
    except Exception:
        import io

        buf = io.BytesIO()
        value.write_ipc(buf, compression="uncompressed")
        return digest("frame-ipc", schema, buf.getvalue())


def storage_fingerprint(bucket: Bucket) -> str:
    """What the bucket's objects are now: ETag, or size + modification time, per file.

    Globs and folders list every matching file; a missing object is fingerprinted
    as missing (so writing it later invalidates the entry).
    """
    uri = bucket.get_uri()
    backend = bucket.backend
    entries = backend.stamps(bucket.fs if backend.stamps_use_fs else None, uri)
    return digest(uri, *(entries or ["missing"]))


def value_bytes(value: Any) -> bytes:
    """A stable byte form of a plain value (pickle, falling back to repr)."""
    if isinstance(value, _SIMPLE):
        return repr(value).encode()
    try:
        from pydantic import BaseModel

        if isinstance(value, BaseModel):
            return f"{type(value).__name__}:{value.model_dump_json()}".encode()
    except ImportError:  # pragma: no cover
        pass
    try:
        return pickle.dumps(value, protocol=5)
    except Exception:
        return repr(value).encode()
