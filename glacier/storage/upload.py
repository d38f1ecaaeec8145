"""Streaming, atomic uploads: the object appears whole on ``commit()`` or not at all.

Polars serialises a frame straight into an :class:`Upload` (a writable binary
stream), so encoding and uploading overlap and nothing is staged on disk:

- :class:`PartUpload` cuts the stream into parts and sends several at once on an
  asyncio loop (S3 multipart upload, Azure staged blocks); the object is made
  visible by one final request (complete / commit the block list), and an
  object smaller than one part is sent with one PUT at the end.
- :class:`FileUpload` feeds any fsspec file opened for writing from a
  background thread (GCS resumable uploads); fsspec's ``discard`` cancels it.

:func:`write_object` drives either: it commits when the frame was written
completely and aborts otherwise. An upload that failed keeps its first error in
``upload.error``, so a storage fault is reported as itself, not as whatever
polars made of a failing ``write()``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import contextlib
import io
import logging
import queue
import threading
from collections.abc import Coroutine
from typing import Any

import polars as pl

__all__ = ["PART_SIZE", "FileUpload", "PartUpload", "Upload", "write_object"]

log = logging.getLogger(__name__)

#: Part size for the first parts; it grows later so that big objects stay under
#: the stores' part-count limits (10,000 on S3, 50,000 on Azure).
PART_SIZE = 16 * 2**20
#: Parts in flight at once (memory: about (IN_FLIGHT + 1) x the part size).
IN_FLIGHT = 4


class Upload(io.RawIOBase):
    """A write-only stream that becomes one object on :meth:`commit`, or none on :meth:`abort`."""

    #: The first storage error met while uploading, if any.
    error: BaseException | None = None

    def writable(self) -> bool:
        return True

    def commit(self) -> None:
        """Publish the object; raise (after aborting) when that fails."""
        raise NotImplementedError

    def abort(self) -> None:
        """Drop everything sent so far; the previous object (if any) stays as it was."""
        raise NotImplementedError


class PartUpload(Upload):
    """Parts uploaded concurrently on ``loop``; subclasses say how to send and finish them.

    Subclasses implement the coroutines :meth:`_put` (one request for a small
    object), :meth:`_start`, :meth:`_part`, :meth:`_finish` and :meth:`_cancel`.
    """

    def __init__(
        self, loop: asyncio.AbstractEventLoop, *, part_size: int = PART_SIZE, in_flight: int = IN_FLIGHT
    ) -> None:
        super().__init__()
        self._loop = loop
        self._part_size = part_size
        self._in_flight = in_flight
        self._buf = bytearray()
        self._parts: list[cf.Future[Any]] = []
        self._started = False
        self._done = False
        # polars can still call write() from its writer thread after the sink has raised:
        # every state change holds this lock, and a write after abort() is refused.
        self._lock = threading.Lock()

    # -- what a store does -------------------------------------------------------------
    async def _put(self, data: bytes) -> None:
        raise NotImplementedError

    async def _start(self) -> None:
        raise NotImplementedError

    async def _part(self, number: int, data: bytes) -> Any:
        raise NotImplementedError

    async def _finish(self, parts: list[Any]) -> None:
        raise NotImplementedError

    async def _cancel(self) -> None:
        raise NotImplementedError

    # -- the stream --------------------------------------------------------------------
    def _run(self, coro: Coroutine[Any, Any, Any]) -> cf.Future[Any]:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def _wait(self, future: cf.Future[Any]) -> Any:
        try:
            return future.result()
        except BaseException as exc:
            if self.error is None:
                self.error = exc
            raise

    def _size_for(self, number: int) -> int:
        """Part ``number``'s size: doubles every 1,000 parts (16 MB parts cover 16 GB first)."""
        return self._part_size * 2 ** (number // 1000)

    def write(self, data: Any) -> int:
        with self._lock:
            if self._done:
                raise OSError("this upload is already finished or aborted")
            if self.error is not None:
                raise self.error
            self._buf += data
            size = self._size_for(len(self._parts))
            while len(self._buf) >= size:
                chunk = bytes(self._buf[:size])
                del self._buf[:size]
                self._send(chunk)
                size = self._size_for(len(self._parts))
            return len(data)

    def _send(self, chunk: bytes) -> None:
        if not self._started:
            self._wait(self._run(self._start()))
            self._started = True
        while True:
            for failed in (f for f in self._parts if f.done() and f.exception() is not None):
                self._wait(failed)  # raises the part's error
            pending = [f for f in self._parts if not f.done()]
            if len(pending) < self._in_flight:
                break
            cf.wait(pending, return_when=cf.FIRST_COMPLETED)
        self._parts.append(self._run(self._part(len(self._parts) + 1, chunk)))

    def commit(self) -> None:
        with self._lock:
            if self._done:
                raise OSError("this upload is already finished or aborted")
            try:
                if not self._started:
                    self._wait(self._run(self._put(bytes(self._buf))))
                else:
                    if self._buf:
                        self._send(bytes(self._buf))
                    results = [self._wait(f) for f in self._parts]
                    self._wait(self._run(self._finish(results)))
            except BaseException:
                self._abort()
                raise
            self._done = True
            self._buf = bytearray()

    def abort(self) -> None:
        with self._lock:
            if not self._done:
                self._abort()

    def _abort(self) -> None:
        self._done = True
        for future in self._parts:
            future.cancel()
        cf.wait(self._parts)
        if self._started:
            try:
                self._run(self._cancel()).result()
            except Exception as exc:  # the store cleans up after itself later; say so
                log.warning(
                    "could not cancel an unfinished upload (it stays invisible): %s", type(exc).__name__
                )
        self._parts = []
        self._buf = bytearray()


class FileUpload(Upload):
    """Feed an fsspec file opened with ``"wb"`` from a background thread.

    ``close()`` publishes the file; ``discard()`` cancels it (and the file is then
    marked closed, so that garbage collection cannot publish a part of it).
    """

    _CHUNK = 4 * 2**20
    _CANCEL_WAIT = 5.0

    def __init__(self, file: Any) -> None:
        super().__init__()
        self._file = file
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self._buf = bytearray()
        self._thread = threading.Thread(target=self._pump, name="glacier-upload", daemon=True)
        self._thread.start()
        self._finished = False
        self._lock = threading.Lock()  # see PartUpload: polars may write after it raised

    def _pump(self) -> None:
        try:
            while (chunk := self._queue.get()) is not None:
                self._file.write(chunk)
        except BaseException as exc:
            self.error = exc
            while self._queue.get() is not None:  # let the writer finish putting
                pass

    def write(self, data: Any) -> int:
        with self._lock:
            if self._finished:
                raise OSError("this upload is already finished or aborted")
            if self.error is not None:
                raise self.error
            self._buf += data
            if len(self._buf) >= self._CHUNK:
                self._queue.put(bytes(self._buf))
                self._buf.clear()
            return len(data)

    def _drain(self, *, send: bool) -> None:
        """Stop the background writer, after it wrote the rest (``send``) or not."""
        if self._finished:
            return
        self._finished = True
        if self._buf and send:
            self._queue.put(bytes(self._buf))
        self._buf.clear()
        while not send and not self._queue.empty():  # nothing more is sent on an abort
            with contextlib.suppress(queue.Empty):
                self._queue.get_nowait()
        self._queue.put(None)
        self._thread.join()

    def commit(self) -> None:
        with self._lock:
            if self._finished:
                raise OSError("this upload is already finished or aborted")
            self._drain(send=True)
            if self.error is None:
                try:
                    self._file.close()
                    return
                except BaseException as exc:
                    self.error = exc
            self._discard()
            raise self.error

    def abort(self) -> None:
        with self._lock:
            if not self._finished:
                self._drain(send=False)
                self._discard()

    def _discard(self) -> None:
        """Cancel the upload session, waiting a few seconds at most.

        The object is invisible either way; a store that is failing (or an emulator
        without cancel) should not hold the error back while its client retries.
        """
        self._file.closed = True  # garbage collection must never publish a part

        def cancel() -> None:
            with contextlib.suppress(Exception):
                self._file.discard()

        worker = threading.Thread(target=cancel, name="glacier-upload-cancel", daemon=True)
        worker.start()
        worker.join(self._CANCEL_WAIT)


def write_object(frame: pl.DataFrame | pl.LazyFrame, fmt: str, upload: Upload) -> None:
    """Serialise ``frame`` in format ``fmt`` into ``upload``, then commit it.

    On any failure the upload is aborted. A storage error is raised as itself
    (``upload.error``); an error in the frame's plan passes through unchanged.
    """
    from glacier.storage.io import serialise

    try:
        serialise(frame, upload, fmt)  # type: ignore[arg-type]
    except BaseException:
        upload.abort()
        if upload.error is not None:
            raise upload.error from None
        raise
    upload.commit()
