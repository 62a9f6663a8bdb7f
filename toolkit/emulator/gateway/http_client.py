"""A lean keep-alive HTTP/1.1 client for the gateway's calls to its backends.

httpx costs ~1.5 ms of CPU per request on this 2-core machine (its anyio and pool machinery dominate);
the gateway forwards every request, so it uses this instead: asyncio protocols, httptools' response parser
(the one uvicorn uses), and a pool of idle connections per host. Measured by benchmarks/gateway_overhead.py.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import IO
from urllib.parse import quote, urlsplit

STREAM_CHUNK_BYTES = 64 * 1024
_TARGET_SAFE = "/?#[]@!$&'()*+,;=:%-._~"  # RFC 3986 reserved and unreserved characters, and existing escapes


class ConnectFailure(Exception):
    """The backend could not be reached (refused, reset, connect timeout)."""


class ResponseTimeout(Exception):
    """The backend sent no complete response within the timeout."""


class StreamedBody(bytes):
    """A request body too large to buffer, held in a temporary file and streamed to the backend.

    It is an empty ``bytes`` to everything else (policies cannot read it: APIM does not buffer bodies over
    its documented 2 MiB either), so it travels through the policy pipeline unchanged to the client here.
    """

    file: IO[bytes]
    size: int

    def __new__(cls, file: IO[bytes], size: int) -> StreamedBody:
        body = super().__new__(cls, b"")
        body.file, body.size = file, size
        return body

    def chunks(self) -> Iterator[bytes]:
        """The content from the start (a retry sends it again)."""
        self.file.seek(0)
        while chunk := self.file.read(STREAM_CHUNK_BYTES):
            yield chunk

    async def aiter_chunks(self) -> AsyncIterator[bytes]:
        """``chunks`` for async consumers (httpx)."""
        for chunk in self.chunks():
            yield chunk

    def close(self) -> None:
        """Delete the temporary file."""
        self.file.close()


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A complete, buffered response."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection; one request at a time."""

    def __init__(self) -> None:
        import httptools

        self._parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[HttpResponse] | None = None
        self._headers: list[tuple[str, str]] = []
        self._body: list[bytes] = []
        self._reason = ""
        self.received = False
        self.reusable = True
        self._writable = asyncio.Event()
        self._writable.set()

    # asyncio protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def pause_writing(self) -> None:
        self._writable.clear()  # the socket buffer is full: a streamed body waits instead of piling up in memory

    def resume_writing(self) -> None:
        self._writable.set()

    def data_received(self, data: bytes) -> None:
        self.received = True
        try:
            self._parser.feed_data(data)
        except Exception as exc:  # noqa: BLE001 - a malformed response fails this request only
            self.reusable = False
            self._fail(ConnectFailure(f"malformed response ({type(exc).__name__})"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.reusable = False
        self._fail(ConnectFailure("connection closed by the backend"))

    def _fail(self, error: Exception) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)

    # httptools callbacks
    def on_status(self, status: bytes) -> None:
        self._reason = status.decode("latin-1")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.decode("latin-1").lower(), value.decode("latin-1")))

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        if not self._parser.should_keep_alive():
            self.reusable = False
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(HttpResponse(self._parser.get_status_code(), self._reason, self._headers,
                                                 b"".join(self._body)))

    async def send(self, request: bytes, timeout: float, body: StreamedBody | None = None) -> HttpResponse:
        assert self.transport is not None
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        self._headers, self._body, self._reason, self.received = [], [], "", False
        self.transport.write(request)
        try:
            return await asyncio.wait_for(self._stream(body, waiter) if body is not None else waiter, timeout)
        except asyncio.TimeoutError:
            self.reusable = False
            raise ResponseTimeout(f"no response within {timeout:g} s") from None
        finally:
            self._waiter = None

    async def _stream(self, body: StreamedBody, waiter: asyncio.Future[HttpResponse]) -> HttpResponse:
        assert self.transport is not None
        for chunk in body.chunks():
            if waiter.done() or self.transport.is_closing():
                break  # the backend answered (or hung up) before reading everything
            await self._writable.wait()
            self.transport.write(chunk)
        return await waiter

    def close(self) -> None:
        self.reusable = False
        if self.transport is not None:
            self.transport.close()


class BackendHttpClient:
    """Pooled keep-alive HTTP/1.1 over plain TCP (the emulator's backends are on loopback)."""

    def __init__(self, *, connect_timeout: float = 5.0, max_idle_per_host: int = 64) -> None:
        self._connect_timeout = connect_timeout
        self._max_idle = max_idle_per_host
        self._idle: dict[tuple[str, int], deque[_Connection]] = defaultdict(deque)

    async def request(self, method: str, url: str, headers: Sequence[tuple[str, str]], body: bytes,
                      timeout: float) -> HttpResponse:
        """Send one request and return the whole response (a StreamedBody is sent from its file, chunk by chunk)."""
        parts = urlsplit(url)
        if parts.scheme != "http":
            raise ConnectFailure(f"the emulator's backend client speaks http only, not {parts.scheme}")
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        # Percent-encode what may not appear in a request line (spaces, CR/LF, NUL, non-ASCII, e.g. decoded
        # from the client's %0d%0a): it would otherwise split the request or inject headers into it.
        target = quote((parts.path or "/") + (f"?{parts.query}" if parts.query else ""), safe=_TARGET_SAFE)
        lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}"]
        lines.extend(f"{name}: {value}" for name, value in headers)
        streamed = body if isinstance(body, StreamedBody) else None
        lines.append(f"Content-Length: {streamed.size if streamed is not None else len(body)}")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (b"" if streamed is not None else body)
        key = (host, port)
        connection = self._take_idle(key)
        if connection is not None:
            try:
                return self._release(key, connection, await connection.send(request, timeout, streamed))
            except ConnectFailure:
                if connection.received:
                    raise
                connection.close()  # an idle connection the backend had closed: try once on a fresh one
        connection = await self._connect(host, port)
        return self._release(key, connection, await connection.send(request, timeout, streamed))

    def _take_idle(self, key: tuple[str, int]) -> _Connection | None:
        idle = self._idle[key]
        while idle:
            connection = idle.pop()
            if connection.reusable and connection.transport is not None and not connection.transport.is_closing():
                return connection
        return None

    def _release(self, key: tuple[str, int], connection: _Connection, response: HttpResponse) -> HttpResponse:
        if connection.reusable and len(self._idle[key]) < self._max_idle:
            self._idle[key].append(connection)
        else:
            connection.close()
        return response

    async def _connect(self, host: str, port: int) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, protocol = await asyncio.wait_for(loop.create_connection(_Connection, host, port),
                                                 self._connect_timeout)
        except asyncio.TimeoutError:
            raise ConnectFailure(f"connecting to {host}:{port} timed out") from None
        except OSError as exc:
            raise ConnectFailure(f"cannot connect to {host}:{port} ({exc.strerror or type(exc).__name__})") from None
        return protocol

    async def aclose(self) -> None:
        """Close every idle connection."""
        for idle in self._idle.values():
            while idle:
                idle.pop().close()


class HttpxBackendClient:
    """The same interface over an ``httpx.AsyncClient`` (tests hand in one with a MockTransport)."""

    def __init__(self, client: object) -> None:
        self.client = client

    async def request(self, method: str, url: str, headers: Sequence[tuple[str, str]], body: bytes,
                      timeout: float) -> HttpResponse:
        """Send one request and return the whole response."""
        import httpx

        client = self.client
        assert isinstance(client, httpx.AsyncClient)
        content = body.aiter_chunks() if isinstance(body, StreamedBody) else body
        if isinstance(body, StreamedBody):
            headers = [*headers, ("content-length", str(body.size))]
        try:
            response = await client.request(method, url, headers=list(headers), content=content,
                                            timeout=httpx.Timeout(timeout))
        except httpx.ConnectTimeout:
            raise ConnectFailure("connect timeout") from None
        except httpx.TimeoutException:
            raise ResponseTimeout(f"no response within {timeout:g} s") from None
        except httpx.TransportError as exc:
            raise ConnectFailure(type(exc).__name__) from None
        return HttpResponse(response.status_code, response.reason_phrase,
                            [(k.lower(), v) for k, v in response.headers.multi_items()], response.content)

    async def aclose(self) -> None:
        """Nothing to close: the caller owns the httpx client."""
