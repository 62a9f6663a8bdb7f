"""A lean keep-alive HTTP/1.1 client for the gateway's calls to its backends.

httpx costs ~1.5 ms of CPU per request on this 2-core machine (its anyio and pool machinery dominate);
the gateway forwards every request, so it uses this instead: asyncio protocols, httptools' response parser
(the one uvicorn uses), and a pool of idle connections per host. Measured by benchmarks/gateway_overhead.py.

An event stream (``text/event-stream``, what Azure OpenAI sends for ``stream: true``) is not buffered when
the caller asks for streams: the response is handed over once its headers are in, with a `BackendStream`
that yields the body as it arrives; the connection goes back to the pool when the stream has ended.
"""

from __future__ import annotations

import asyncio
import re
import weakref
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import IO
from urllib.parse import quote, urlsplit

from toolkit.emulator.policy.headers import breaks_header_line

STREAM_CHUNK_BYTES = 64 * 1024
_TIMER_SLACK = 0.001  # uvloop's timers have millisecond resolution: one may fire up to 1 ms before its time
_TARGET_SAFE = "/?#[]@!$&'()*+,;=:%-._~"  # RFC 3986 reserved and unreserved characters, and existing escapes
_NEEDS_QUOTING = re.compile("[^A-Za-z0-9" + re.escape(_TARGET_SAFE) + "]").search  # what quote() would change


class ConnectFailure(Exception):
    """The backend could not be reached (refused, reset, connect timeout)."""


class ResponseTimeout(Exception):
    """The backend sent no complete response within the timeout."""


class InvalidRequestHead(ValueError):
    """A request's method or a header holds a line break or NUL, which HTTP forbids (RFC 9110, 5.5): written as it
    is, it would split into headers, or a request, of its author's choosing. Nothing is sent.

    The lean client does not look for them on every request (its callers' headers are the client's, which the
    server's parser has checked, and the policies', which set-header checks); the callers check what comes from
    elsewhere (a backend's credentials, send-request's headers) with `check_request_head`."""


def check_request_head(method: str, headers: Sequence[tuple[str, str]]) -> None:
    """Raise InvalidRequestHead naming the first field that holds a CR, LF or NUL."""
    if breaks_header_line(method):
        raise _invalid("the method")
    for name, value in headers:
        if breaks_header_line(value) or breaks_header_line(name):
            raise _invalid(f"header {name!r}")


def _invalid(what: str) -> InvalidRequestHead:
    return InvalidRequestHead(f"{what} of the request holds a line break (CR or LF) or NUL, which HTTP does not allow "
                              "(RFC 9110, 5.5)")


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
    """A response: complete and buffered, or (an event stream) headers now and ``stream`` for the body."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    stream: BackendStream | None = None


class BackendStream:
    """The body of a streamed response, chunk by chunk as the backend sends it (an async iterator).

    ``on_end(complete)`` runs once: when the body has been read to its end (True), or when the stream
    fails or is closed before (False), so that the connection is reused or dropped.
    """

    __slots__ = ("_chunks", "_ready", "_ended", "_error", "_on_end", "_done")

    def __init__(self) -> None:
        self._chunks: deque[bytes] = deque()
        self._ready = asyncio.Event()
        self._ended = False
        self._error: Exception | None = None
        self._on_end: Callable[[bool], None] | None = None
        self._done = False

    # fed by the connection
    def feed(self, chunk: bytes) -> None:
        self._chunks.append(chunk)
        self._ready.set()

    def end(self, error: Exception | None = None) -> None:
        if not self._ended:
            self._ended, self._error = True, error
            self._ready.set()

    # read by the gateway
    def __aiter__(self) -> BackendStream:
        return self

    async def __anext__(self) -> bytes:
        while not self._chunks:
            if self._ended:
                self._finish(self._error is None)
                if self._error is not None:
                    raise self._error
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()
        return self._chunks.popleft()

    def close(self) -> None:
        """Stop reading: the rest is dropped (with the connection, unless the body had already ended)."""
        self._finish(self._ended and self._error is None and not self._chunks)

    def _finish(self, complete: bool) -> None:
        if not self._done:
            self._done = True
            if self._on_end is not None:
                self._on_end(complete)


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
        self.want_events = False  # hand an event stream over at its headers (set per request)
        self._bodiless = False  # the request is a HEAD: its answer has headers only, whatever its Content-Length
        # The response timeout: one timer per connection, re-armed only when it fires early or a request
        # needs an earlier one (not a timer made and cancelled per request: this is the hot path).
        self._deadline = 0.0  # loop time by which the current response must have come
        self._timeout = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._event_stream = False  # the response being parsed is text/event-stream
        self._status = 0  # of the answer being parsed, once its headers are in (0 before)
        self._events: BackendStream | None = None

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
            self.close()  # nothing more can be read from it
            self._fail(ConnectFailure(f"malformed response ({type(exc).__name__})"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.reusable = False
        if exc is None and self._status and self._read_until_close():  # a clean close ends such a body (RFC 9112, 6.3)
            self._complete()
        self._fail(ConnectFailure("connection closed by the backend"))

    def _fail(self, error: Exception) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)
        if self._events is not None:
            self._events.end(error)

    # httptools callbacks
    def on_status(self, status: bytes) -> None:
        self._reason = status.decode("latin-1")

    def on_header(self, name: bytes, value: bytes) -> None:
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        if key == "content-type" and text.lower().startswith("text/event-stream"):
            self._event_stream = True
        self._headers.append((key, text))

    def on_headers_complete(self) -> None:
        self._status = self._parser.get_status_code()
        if _interim(self._status):
            return
        if self._bodiless and self._waiter is not None and not self._waiter.done():
            # httptools cannot be told that the announced body will not come: the answer is complete at its
            # headers, and this parser would take the next response for that body, so the connection is not reused.
            self.reusable = False
            self._waiter.set_result(HttpResponse(self._status, self._reason, self._headers, b""))
            return
        if self.want_events and self._waiter is not None and self._event_stream:
            self._events = BackendStream()
            self._waiter.set_result(HttpResponse(self._status, self._reason, self._headers, b"",
                                                 self._events))

    def on_body(self, body: bytes) -> None:
        if self._events is not None:
            self._events.feed(body)
        else:
            self._body.append(body)

    def on_message_complete(self) -> None:
        if _interim(self._status):  # the final answer follows on the same connection: parse it afresh
            self._headers, self._reason, self._event_stream, self._status = [], "", False, 0
            return
        if not self._parser.should_keep_alive():
            self.reusable = False
        if self._events is None and self._waiter is None:  # a response nobody asked for: the connection is out of step
            self.close()
        else:
            self._complete()

    def _complete(self) -> None:
        """The answer has been read whole: hand it to the request waiting for it."""
        if self._events is not None:
            events, self._events = self._events, None
            events.end()
        elif self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(HttpResponse(self._status, self._reason, self._headers,
                                                 b"".join(self._body)))

    def _read_until_close(self) -> bool:
        """Whether the answer whose headers are in is delimited by the connection's close: it has neither a
        Content-Length nor chunks (RFC 9112, 6.3). An answer that has no body (a HEAD's, 204, 304) is complete at
        its headers, before any close. Asked only when the connection closes (not per answer: the hot path)."""
        for name, value in self._headers:
            if name == "content-length" or (name == "transfer-encoding" and value.rstrip().lower().endswith("chunked")):
                return False
        return True

    async def send(self, request: bytes, timeout: float, body: StreamedBody | None, events: bool) -> HttpResponse:
        assert self.transport is not None
        if self.transport.is_closing():  # closed as it opened (e.g. out of file descriptors): uvloop would raise
            self.reusable = False
            raise ConnectFailure("connection closed before the request was sent")
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        self._headers, self._body, self._reason, self.received = [], [], "", False
        self.want_events, self._events, self._event_stream, self._status = events, None, False, 0
        self._bodiless = request.startswith(b"HEAD ")
        self.transport.write(request)
        # A deadline on the response future rather than asyncio.wait_for: the same timeout, without a wrapper
        # future and callbacks on every request (this is the hot path).
        self._deadline, self._timeout = loop.time() + timeout, timeout
        if self._timer is None or self._timer_at > self._deadline:
            self._arm(loop)
        try:
            return await (self._stream(body, waiter) if body is not None else waiter)
        except BaseException:
            self.close()  # a failed or abandoned (cancelled) request leaves the connection out of step: never reused
            raise
        finally:
            self._waiter = None

    def _arm(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = self._deadline
        self._timer = loop.call_at(self._deadline, self._check_deadline, loop)

    def _check_deadline(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        waiter = self._waiter
        if waiter is None or waiter.done():
            return  # idle, or answered: the next request arms a timer again
        if loop.time() < self._deadline - _TIMER_SLACK:
            self._arm(loop)  # armed for an earlier request that was answered: wait for this one's deadline
        else:
            self._time_out(waiter, self._timeout)

    def _time_out(self, waiter: asyncio.Future[HttpResponse], timeout: float) -> None:
        if not waiter.done():
            waiter.set_exception(ResponseTimeout(f"no response within {timeout:g} s"))
            self.close()  # a late answer must not be read as the next request's

    async def _stream(self, body: StreamedBody, waiter: asyncio.Future[HttpResponse]) -> HttpResponse:
        assert self.transport is not None
        # A backend may answer (413) or hang up before it has read the body, and stop reading: the socket stays
        # full, so the wait for room must also end when the response is settled, or it would last for ever.
        waiter.add_done_callback(lambda _: self._writable.set())
        for chunk in body.chunks():
            await self._writable.wait()
            if waiter.done() or self.transport.is_closing():
                # The body was cut short: what the backend would read next on this connection is out of step.
                self.reusable = False
                break
            self.transport.write(chunk)
        return await waiter

    def close(self) -> None:
        self.reusable = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.transport is not None:
            self.transport.close()


def _interim(status: int) -> bool:
    """An interim answer (100 Continue, 103 Early Hints...), which a client must be able to read before the final one,
    asked for or not (RFC 9110, 15.2). 101 ends HTTP/1.1 on the connection instead, and no request of this client
    asks for it (Upgrade is never forwarded)."""
    return status < 200 and status != 101


class BackendHttpClient:
    """Pooled keep-alive HTTP/1.1 over plain TCP (the emulator's backends are on loopback)."""

    def __init__(self, *, connect_timeout: float = 5.0, max_idle_per_host: int = 64) -> None:
        self._connect_timeout = connect_timeout
        self._max_idle = max_idle_per_host
        self._idle: dict[tuple[str, int], deque[_Connection]] = defaultdict(deque)
        self._open: weakref.WeakSet[_Connection] = weakref.WeakSet()  # every connection made, until it is dropped
        # Called as each request is about to be sent: work that can wait runs while the request waits (the
        # gateway's after-answer work, gateway/after_answer.py).
        self.on_send: Callable[[], None] | None = None

    async def request(self, method: str, url: str, headers: Sequence[tuple[str, str]], body: bytes,
                      timeout: float, *, stream: bool = False) -> HttpResponse:
        """Send one request and return the whole response (a StreamedBody is sent from its file, chunk by chunk).

        With ``stream``, an event-stream response is returned at its headers, its body in ``stream``.
        """
        host, port, netloc, target = _split_url(url)
        streamed = body if isinstance(body, StreamedBody) else None
        head = "".join([f"{method} {target} HTTP/1.1\r\nHost: {netloc}\r\n",
                        *[f"{name}: {value}\r\n" for name, value in headers],
                        f"Content-Length: {streamed.size if streamed is not None else len(body)}\r\n\r\n"])
        request = head.encode("latin-1") + body  # one write: head and body (a StreamedBody is empty: its file follows)
        key = (host, port)
        if self.on_send is not None:
            self.on_send()
        connection = self._take_idle(key)
        if connection is not None:
            try:
                return self._release(key, connection, await connection.send(request, timeout, streamed, stream))
            except ConnectFailure:
                if connection.received:
                    raise
                # An idle connection the backend had closed (send closed it): try once on a fresh one.
        connection = await self._connect(host, port)
        return self._release(key, connection, await connection.send(request, timeout, streamed, stream))

    def _take_idle(self, key: tuple[str, int]) -> _Connection | None:
        idle = self._idle[key]
        while idle:
            connection = idle.pop()
            if connection.reusable and connection.transport is not None and not connection.transport.is_closing():
                return connection
        return None

    def _release(self, key: tuple[str, int], connection: _Connection, response: HttpResponse) -> HttpResponse:
        if response.stream is not None:  # back to the pool once the body has been read
            response.stream._on_end = lambda complete: self._reuse(key, connection, complete)
            return response
        self._reuse(key, connection, True)
        return response

    def _reuse(self, key: tuple[str, int], connection: _Connection, complete: bool) -> None:
        if complete and connection.reusable and len(self._idle[key]) < self._max_idle:
            self._idle[key].append(connection)
        else:
            connection.close()

    async def _connect(self, host: str, port: int) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, protocol = await asyncio.wait_for(loop.create_connection(_Connection, host, port),
                                                 self._connect_timeout)
        except asyncio.TimeoutError:
            raise ConnectFailure(f"connecting to {host}:{port} timed out") from None
        except OSError as exc:
            raise ConnectFailure(f"cannot connect to {host}:{port} ({exc.strerror or type(exc).__name__})") from None
        self._open.add(protocol)
        return protocol

    async def aclose(self) -> None:
        """Close every connection: the idle ones, and any still in use (a stream nobody finished reading, a request
        in flight). uvloop's loop does not finish closing while a connection is open: one left open would hold the
        emulator's shutdown for ever."""
        for idle in self._idle.values():
            idle.clear()
        for connection in list(self._open):
            connection.close()


@lru_cache(maxsize=512)  # every request: the same few backend URLs
def _split_url(url: str) -> tuple[str, int, str, str]:
    """(host, port, Host header, request target) of an http URL; ConnectFailure for another scheme."""
    parts = urlsplit(url)
    if parts.scheme != "http":
        raise ConnectFailure(f"the emulator's backend client speaks http only, not {parts.scheme}")
    # Percent-encode what may not appear in a request line (spaces, CR/LF, NUL, non-ASCII, e.g. decoded
    # from the client's %0d%0a): it would otherwise split the request or inject headers into it.
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if _NEEDS_QUOTING(target):
        target = quote(target, safe=_TARGET_SAFE)
    return parts.hostname or "127.0.0.1", parts.port or 80, parts.netloc, target


class HttpxBackendClient:
    """The same interface over an ``httpx.AsyncClient`` (tests hand in one with a MockTransport)."""

    def __init__(self, client: object) -> None:
        self.client = client

    async def request(self, method: str, url: str, headers: Sequence[tuple[str, str]], body: bytes,
                      timeout: float, *, stream: bool = False) -> HttpResponse:
        """Send one request and return the whole response (always buffered: for tests)."""
        import httpx

        client = self.client
        assert isinstance(client, httpx.AsyncClient)
        check_request_head(method, headers)
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
        # httpx decodes a compressed body: its Content-Encoding no longer describes the body handed on
        return HttpResponse(response.status_code, response.reason_phrase,
                            [(k.lower(), v) for k, v in response.headers.multi_items() if k.lower() != "content-encoding"],
                            response.content)

    async def aclose(self) -> None:
        """Nothing to close: the caller owns the httpx client."""
