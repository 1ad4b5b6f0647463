"""An upload sink: accepts ``POST``s of any size, counts the body bytes, keeps none of them.

Used to measure the client's memory while uploading (the emulator keeps uploads in memory, which
would swamp the measurement). Answers like CAMB.AI's submit: ``{"task_id": "recv-<n>"}``.
"""

from __future__ import annotations

import asyncio
import json

from ._loop import LoopServer, read_head

__all__ = ["Receiver"]

_CHUNK = 1 << 16


class Receiver(LoopServer):
    """``with Receiver() as r: ... r.base_url``; ``r.bytes_received`` counts body bytes."""

    thread_name = "upload-receiver"

    def __init__(self) -> None:
        super().__init__()
        self.bytes_received = 0
        self.requests = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/apis"

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (head := await read_head(reader)) is not None:
            length = int(head[2].get("content-length", "0"))
            left = length
            while left:
                chunk = await reader.read(min(_CHUNK, left))
                if not chunk:
                    return
                left -= len(chunk)
            self.bytes_received += length
            self.requests += 1
            body = json.dumps({"task_id": f"recv-{self.requests}"}).encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                b"content-length: %d\r\n\r\n%s" % (len(body), body)
            )
            await writer.drain()
