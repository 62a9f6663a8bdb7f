"""The floor under any Python gateway: a proxy with no policy at all, on the emulator's own stack (uvloop, httptools,
orjson), that makes the backend calls the gateway makes for one request and answers with the last one's response.

benchmarks/gateway_overhead.py times it beside the gateway, so the gateway's added latency splits in two: what a
Python process in the path costs at the least (this proxy), and what the gateway's policy work adds on top.

Each client connection gets its own keep-alive connection to every backend it calls. A step is (URL, kind):
"same" forwards the client's body; "embeddings" sends the semantic cache's embeddings request for it (the text of
its non-system messages, base64 vectors, as the gateway asks) and decodes the vector, the least a cache lookup
needs. Only what the benchmark sends is handled: POST with Content-Length, responses with Content-Length.

    python benchmarks/_floor_proxy.py '{"steps": [[url, kind], ...], "api_key": "..."}'

prints {"pid": ..., "url": ...} and serves until its stdin closes.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
from typing import Any
from urllib.parse import urlsplit

import httptools
import numpy as np
import orjson
import uvloop


class _BackendConnection(asyncio.Protocol):
    """One keep-alive connection to a backend: one request at a time, the whole response returned."""

    def __init__(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self._body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._parser.feed_data(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ConnectionError("the backend closed the connection"))

    def on_message_begin(self) -> None:
        self._body = []

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self._waiter is not None:
            self._waiter.set_result((self._parser.get_status_code(), b"".join(self._body)))

    async def post(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(b"%sContent-Length: %d\r\n\r\n%s" % (head, len(body), body))  # type: ignore[attr-defined]
        return await self._waiter


def _embeddings_body(chat_body: bytes) -> bytes:
    messages = orjson.loads(chat_body)["messages"]
    text = "\n".join(m["content"] for m in messages if m["role"] not in ("system", "developer"))
    return orjson.dumps({"input": [text], "encoding_format": "base64"})


def _decode_vector(answer: bytes) -> Any:
    return np.frombuffer(base64.b64decode(orjson.loads(answer)["data"][0]["embedding"]), dtype="<f4")


class _ClientConnection(asyncio.Protocol):
    """One client connection: each request runs the steps in turn, on this connection's own backend connections."""

    def __init__(self, steps: list[tuple[str, str]], api_key: str) -> None:
        self._steps = steps
        self._api_key = api_key
        self._parser = httptools.HttpRequestParser(self)
        self._backends: list[tuple[_BackendConnection, bytes]] = []
        self._body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._parser.feed_data(data)

    def on_message_begin(self) -> None:
        self._body = []

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        asyncio.ensure_future(self._answer(b"".join(self._body)))

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        for url, _ in self._steps:
            parts = urlsplit(url)
            _, backend = await loop.create_connection(_BackendConnection, parts.hostname, parts.port)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            head = (f"POST {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
                    f"api-key: {self._api_key}\r\n").encode()
            self._backends.append((backend, head))

    async def _answer(self, body: bytes) -> None:
        if not self._backends:
            await self._connect()
        status, answer = 502, b""
        try:
            for (backend, head), (_, kind) in zip(self._backends, self._steps, strict=True):
                if kind == "embeddings":
                    status, answer = await backend.post(head, _embeddings_body(body))
                    _decode_vector(answer)
                else:
                    status, answer = await backend.post(head, body)
        except (OSError, ValueError, KeyError) as exc:  # counted as a failed request by the load generator
            status, answer = 502, repr(exc).encode()
        self.transport.write(b"HTTP/1.1 %d OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"  # type: ignore[attr-defined]
                             % (status, len(answer), answer))


async def _serve(spec: dict[str, Any]) -> None:
    loop = asyncio.get_running_loop()
    steps = [(url, kind) for url, kind in spec["steps"]]
    server = await loop.create_server(lambda: _ClientConnection(steps, spec["api_key"]), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(json.dumps({"pid": os.getpid(), "url": f"http://127.0.0.1:{port}/floor"}), flush=True)
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


if __name__ == "__main__":
    uvloop.run(_serve(json.loads(sys.argv[1])))
