"""S3 writes: one PUT for a small object, else a multipart upload with parts in parallel."""

from __future__ import annotations

import concurrent.futures as cf
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from glacier.storage.upload import PartUpload

__all__ = ["S3Upload", "STALE_UPLOAD_AGE"]

log = logging.getLogger(__name__)

#: An open multipart upload of the key being written that has not moved (no new part) for
#: this long was left by a writer that died: the next write aborts it. A live writer sends
#: a part every few seconds; the generated bucket's lifecycle rule aborts any incomplete
#: upload after 7 days as well.
STALE_UPLOAD_AGE = timedelta(hours=1)


class S3Upload(PartUpload):
    """Upload to ``s3://bucket/key`` through s3fs' client; ``extra`` carries SSE and the storage class.

    The object exists only once ``CompleteMultipartUpload`` succeeded; on failure the
    multipart upload is aborted, so no parts are left behind (nor billed). Uploads of the
    same key that a killed writer left open are aborted alongside (:data:`STALE_UPLOAD_AGE`).
    """

    def __init__(self, fs: Any, uri: str, extra: dict[str, Any]) -> None:
        super().__init__(fs.loop)
        self._fs = fs
        self._bucket, self._key, _ = fs.split_path(uri)
        self._extra = extra
        self._id: str | None = None
        self._sweep: cf.Future[Any] = self._run(self._abort_stale())

    async def _abort_stale(self) -> None:
        """Abort this key's multipart uploads idle for :data:`STALE_UPLOAD_AGE` (never this one)."""
        listed = await self._fs._call_s3("list_multipart_uploads", Bucket=self._bucket, Prefix=self._key)
        cutoff = datetime.now(UTC) - STALE_UPLOAD_AGE
        for up in listed.get("Uploads", []):
            if up["Key"] != self._key or up["UploadId"] == self._id or _utc(up["Initiated"]) > cutoff:
                continue
            parts = await self._call("list_parts", UploadId=up["UploadId"])
            if all(_utc(p["LastModified"]) <= cutoff for p in parts.get("Parts", [])):
                await self._call("abort_multipart_upload", UploadId=up["UploadId"])

    def _swept(self) -> None:
        """Wait for the sweep; a failure to sweep never fails the write (the lifecycle rule remains)."""
        try:
            self._sweep.result()
        except Exception as exc:
            log.warning("could not abort stale multipart uploads of %s: %s", self._key, type(exc).__name__)

    def commit(self) -> None:
        try:
            super().commit()
        except BaseException:
            self._sweep.cancel()  # a failing store: the error first, the sweep on a later write
            raise
        self._swept()

    def abort(self) -> None:
        self._sweep.cancel()
        super().abort()

    async def _call(self, method: str, **kwargs: Any) -> Any:
        return await self._fs._call_s3(method, Bucket=self._bucket, Key=self._key, **kwargs)

    async def _put(self, data: bytes) -> None:
        await self._call("put_object", Body=data, **self._extra)

    async def _start(self) -> None:
        self._id = (await self._call("create_multipart_upload", **self._extra))["UploadId"]

    async def _part(self, number: int, data: bytes) -> dict[str, Any]:
        out = await self._call("upload_part", UploadId=self._id, PartNumber=number, Body=data)
        return {"PartNumber": number, "ETag": out["ETag"]}

    async def _finish(self, parts: list[Any]) -> None:
        await self._call("complete_multipart_upload", UploadId=self._id, MultipartUpload={"Parts": parts})

    async def _cancel(self) -> None:
        if self._id is not None:
            await self._call("abort_multipart_upload", UploadId=self._id)


def _utc(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
