"""Azure Blob writes: one ``Put Blob`` for a small object, else staged blocks and one commit."""

from __future__ import annotations

import uuid
from typing import Any

from glacier.storage.upload import PartUpload

__all__ = ["AzureUpload"]


class AzureUpload(PartUpload):
    """Upload to ``az://container/blob`` through adlfs' async service client.

    Blocks are staged in parallel and stay invisible until ``Put Block List``
    commits them (with the access tier from ``extra``); on failure they are never
    committed and Azure drops uncommitted blocks by itself. Block ids carry a
    random prefix, so two writers of one blob cannot mix their blocks.
    """

    def __init__(self, fs: Any, uri: str, extra: dict[str, Any]) -> None:
        super().__init__(fs.loop)
        self._fs = fs
        self._container, self._blob, _ = fs.split_path(uri)
        self._extra = extra
        self._prefix = uuid.uuid4().hex

    def _client(self) -> Any:
        return self._fs.service_client.get_blob_client(container=self._container, blob=self._blob)

    async def _put(self, data: bytes) -> None:
        async with self._client() as blob:
            await blob.upload_blob(data, overwrite=True, **self._extra)

    async def _start(self) -> None:
        pass

    async def _part(self, number: int, data: bytes) -> str:
        block_id = f"{self._prefix}{number:06d}"
        async with self._client() as blob:
            await blob.stage_block(block_id=block_id, data=data, length=len(data))
        return block_id

    async def _finish(self, parts: list[Any]) -> None:
        from azure.storage.blob import BlobBlock

        async with self._client() as blob:
            await blob.commit_block_list([BlobBlock(block_id=b) for b in parts], **self._extra)

    async def _cancel(self) -> None:
        pass  # uncommitted blocks never become visible; Azure discards them within a week
