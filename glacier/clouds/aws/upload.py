"""S3 writes: one PUT for a small object, else a multipart upload with parts in parallel."""

from __future__ import annotations

from typing import Any

from glacier.storage.upload import PartUpload

__all__ = ["S3Upload"]


class S3Upload(PartUpload):
    """Upload to ``s3://bucket/key`` through s3fs' client; ``extra`` carries SSE and the storage class.

    The object exists only once ``CompleteMultipartUpload`` succeeded; on failure the
    multipart upload is aborted, so no parts are left behind (nor billed).
    """

    def __init__(self, fs: Any, uri: str, extra: dict[str, Any]) -> None:
        super().__init__(fs.loop)
        self._fs = fs
        self._bucket, self._key, _ = fs.split_path(uri)
        self._extra = extra
        self._id: str | None = None

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
