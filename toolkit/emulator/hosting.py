"""Serve several ASGI apps, each on its own loopback port, from one background event loop.

One thread runs one asyncio loop (uvloop) with one uvicorn ``Server`` per app; uvicorn's own loop setup and
signal handling are not used. An app can stop listening (clients get a real "connection refused") and listen
again on the same port: the port stays reserved by a bound, non-listening socket meanwhile.

uvicorn writes a response's head on ``http.response.start`` and its body on ``http.response.body``: two socket
writes (two TCP segments) for every small response. Each connection's transport is wrapped so that what the
protocol writes in one turn of the loop goes out in one write, and a finished response at once.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import ipaddress
import socket
import ssl as ssl_module
from email.utils import formatdate
from functools import lru_cache
import threading
import time
from urllib.parse import urlsplit
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from toolkit.errors import InputError, RemoteError

T = TypeVar("T")
_CONTROL_TIMEOUT = 30.0
# Chosen by measurement: benchmarks/simulator_backends.py (uvloop + httptools served ~2x the requests of
# asyncio + h11 on this 2-core machine).
DEFAULT_LOOP = "uvloop"
DEFAULT_HTTP = "httptools"


@lru_cache(maxsize=256)  # checked on every request (the Host header): the same few names
def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine: the only place the emulator talks to."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def require_loopback(host: str) -> str:
    """The emulator only ever listens on loopback addresses."""
    if host.lower() == "localhost":
        return "127.0.0.1"
    if is_loopback_host(host):
        return host
    raise InputError(f"the emulator listens on loopback only (127.0.0.1 or ::1), not {host!r}")


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP (not 0) so asyncio sets TCP_NODELAY on accepted connections: without it Nagle and
    # delayed ACKs cost ~40 ms per response.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


_FLUSH_BYTES = 64 * 1024  # a streamed response bigger than this per loop turn is written without waiting


class CoalescingTransport:
    """A transport proxy that joins the writes of one loop turn into one ``write`` of the real transport.

    Flushed by the protocol when a response is complete (so a whole small response is one write, sent at
    once), before a close, when ``_FLUSH_BYTES`` are pending, and otherwise at the next loop turn (streamed
    chunks). Everything else is the real transport's.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._size = 0
        self._scheduled = False

    def write(self, data: bytes) -> None:
        if not data:
            return
        self._pending.append(bytes(data))
        self._size += len(data)
        if self._size >= _FLUSH_BYTES:
            self.flush()
        elif not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._flush_later)

    def _flush_later(self) -> None:
        self._scheduled = False
        self.flush()

    def flush(self) -> None:
        """Write what is pending, in one write."""
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending.clear()
        self._size = 0
        if not self.transport.is_closing():
            self.transport.write(data)

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self.transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


def coalescing_protocol(base: type[asyncio.Protocol]) -> type[asyncio.Protocol]:
    """``base`` (a uvicorn HTTP protocol class) writing through a CoalescingTransport."""

    class Coalescing(base):  # type: ignore[valid-type,misc]
        def connection_made(self, transport: Any) -> None:
            super().connection_made(CoalescingTransport(transport, asyncio.get_running_loop()))

        def on_response_complete(self) -> None:
            self.transport.flush()  # the whole response (head and body) in one write, now
            super().on_response_complete()

    Coalescing.__name__ = Coalescing.__qualname__ = f"Coalescing{base.__name__}"
    return Coalescing


MAX_REQUEST_HEAD_BYTES = 64 * 1024  # request line and headers; past this: 431 and the connection closes
REQUEST_READ_TIMEOUT_S = 60.0  # from a connection's opening (or a request's first byte) to the request read whole


def guarded_protocol(base: type[Any]) -> type[Any]:
    """``base`` (uvicorn's httptools protocol) with a bound on a request's head and on the time to read a request.

    httptools has no limit on a header's size and joins its pieces at a cost that grows with the square of its
    length (a 128 MiB header stalled every surface of the emulator, which share one event loop, for ~9 s); and a
    connection that sends nothing, or a byte now and then, was never closed (~20,000 of them used every file
    descriptor). A head over ``MAX_REQUEST_HEAD_BYTES`` is answered 431 and the connection closed; a request not
    read whole within ``REQUEST_READ_TIMEOUT_S`` of its first byte (or of the connection opening) closes the
    connection (408 when its head had not arrived). Idle keep-alive connections are uvicorn's (``timeout_keep_alive``).
    """

    class Guarded(base):  # type: ignore[valid-type,misc]
        _head_done = True
        _head_bytes = 0
        _begun_in_chunk = False
        _reading = False  # a request (or the first one of the connection) is being waited for or read
        _deadline = 0.0  # loop time by which it must have been read whole
        _read_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._head_done = False
            self._start_reading()

        def connection_lost(self, exc: Exception | None) -> None:
            self._reading = False
            if self._read_timer is not None:
                self._read_timer.cancel()
                self._read_timer = None
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            self._begun_in_chunk = False
            super().data_received(data)
            if self._head_done or self.transport.is_closing():
                return
            # A request that began in this chunk is not counted (the chunk may hold earlier pipelined requests):
            # it is caught one read later at most.
            self._head_bytes += 0 if self._begun_in_chunk else len(data)
            if self._head_bytes > MAX_REQUEST_HEAD_BYTES:
                self._refuse(431, "Request Header Fields Too Large",
                             f"the request line and headers are over {MAX_REQUEST_HEAD_BYTES} bytes")

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._head_done, self._head_bytes, self._begun_in_chunk = False, 0, True
            self._start_reading()

        def on_headers_complete(self) -> None:
            self._head_done = True
            if self.url[:7].lower() == b"http://" or self.url[:8].lower() == b"https://":
                # An absolute-form target ("POST http://host/path HTTP/1.1"): its host takes precedence over the
                # Host header (RFC 9112, section 3.2.2), so the request guard checks it too.
                from toolkit.emulator.request_guard import TARGET_HOST

                try:
                    target_host = urlsplit(self.url.decode("latin-1")).hostname or ""
                except ValueError:  # "http://[::1/": no host to trust
                    target_host = ""
                self.scope[TARGET_HOST] = target_host  # type: ignore[literal-required]
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._reading = False
            super().on_message_complete()

        def _start_reading(self) -> None:
            # One timer per connection, re-armed only when it fires early (not a timer made and cancelled for
            # every request: this is the hot path).
            self._reading = True
            self._deadline = self.loop.time() + REQUEST_READ_TIMEOUT_S
            if self._read_timer is None:
                self._read_timer = self.loop.call_at(self._deadline, self._check_read_deadline)

        def _check_read_deadline(self) -> None:
            self._read_timer = None
            if not self._reading or self.transport.is_closing():
                return  # between requests: idle keep-alive connections are uvicorn's to close
            if self.loop.time() < self._deadline:
                self._read_timer = self.loop.call_at(self._deadline, self._check_read_deadline)
            elif not self._head_done:
                self._refuse(408, "Request Timeout", f"no whole request within {REQUEST_READ_TIMEOUT_S:g} s")
            else:
                self.transport.close()  # a body that stopped coming: the app sees the client go away

        def _refuse(self, status: int, reason: str, message: str) -> None:
            body = message.encode()
            self.transport.write(f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
                                 f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode() + body)
            self.transport.close()

    Guarded.__name__ = Guarded.__qualname__ = f"Guarded{base.__name__}"
    return Guarded


def _protocol_class(http: str) -> type[asyncio.Protocol]:
    if http == "httptools":
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        return coalescing_protocol(guarded_protocol(HttpToolsProtocol))
    from uvicorn.protocols.http.h11_impl import H11Protocol

    return coalescing_protocol(H11Protocol)


_date_now: tuple[int, bytes] = (0, b"")


def http_date() -> bytes:
    """The current time as an HTTP Date value (formatted once a second)."""
    global _date_now
    second = int(time.time())
    if _date_now[0] != second:
        _date_now = (second, formatdate(second, usegmt=True).encode())
    return _date_now[1]


def date_when_missing(app: Callable[..., Any]) -> Callable[..., Any]:
    """``app`` answering with its own Date header when it has one (a proxied backend's), else the server's.

    A proxy passes the origin's Date through and adds one only when it is missing (RFC 9110, 6.6.1); uvicorn
    would add its own next to the origin's, so an app wrapped in this is served with ``date_header=False``.
    """

    async def with_date(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_with_date(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if not any(name.lower() == b"date" for name, _ in headers):
                    message = {**message, "headers": [*headers, (b"date", http_date())]}
            await send(message)

        await app(scope, receive, send_with_date)

    return with_date


_TICK_SECONDS = 1.0  # how often an idle server wakes (uvicorn refreshes its Date header once a second)


@functools.cache
def _server_class() -> type:
    """uvicorn's Server, woken once a second (the Date header) or at once when told to exit.

    uvicorn wakes every server every 0.1 s to look at its exit flag. The emulator runs one server per
    simulated backend: with 150 backends that was ~15 ms of CPU a second for nothing (~3 ms here), for as
    long as the emulator runs, so an apply that adds backends paid for it quadratically. The exit flag
    is only ever set on the serving loop (``aset_listening``, shutdown), which is where it wakes the server.
    """
    import uvicorn

    def wake(waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            waiter.set_result(None)

    class _Server(uvicorn.Server):  # type: ignore[misc]
        def __init__(self, config: Any) -> None:
            self._exit = False
            self._waiter: asyncio.Future[None] | None = None
            super().__init__(config)

        @property  # type: ignore[override]
        def should_exit(self) -> bool:
            return self._exit

        @should_exit.setter
        def should_exit(self, value: bool) -> None:
            self._exit = value
            if value and self._waiter is not None:
                wake(self._waiter)

        async def main_loop(self) -> None:
            loop = asyncio.get_running_loop()
            counter = 0  # uvicorn's on_tick refreshes the Date header when counter % 10 == 0
            while not await self.on_tick(counter):
                counter = (counter + 10) % 864000
                self._waiter = loop.create_future()
                timer = loop.call_later(_TICK_SECONDS, wake, self._waiter)
                try:
                    await self._waiter
                finally:
                    timer.cancel()
                    self._waiter = None

    return _Server


@dataclass
class TlsFiles:
    """PEM files uvicorn serves TLS with."""

    cert_path: str
    key_path: str


@dataclass
class _Slot:
    name: str
    app: Callable[..., Any]
    port: int
    tls: TlsFiles | None
    # False: the app's own Date is kept, the server's is added only when it has none; "app": the app dates
    # every response itself (the server neither adds one nor looks)
    date_header: bool | str = True
    socket: socket.socket | None = None
    server: Any = None
    task: asyncio.Task[None] | None = None
    retiring: list[asyncio.Task[None]] = field(default_factory=list)


class AppHost:
    """Runs named ASGI apps on loopback ports in one background thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        *,
        loop: str = DEFAULT_LOOP,
        http: str = DEFAULT_HTTP,
        graceful_shutdown: float = 1.0,
        before_stop: Callable[[], None] | None = None,
    ) -> None:
        if loop not in ("uvloop", "asyncio"):
            raise InputError(f"server loop must be 'uvloop' or 'asyncio', got {loop!r}")
        if http not in ("httptools", "h11"):
            raise InputError(f"server http must be 'httptools' or 'h11', got {http!r}")
        self._host = require_loopback(host)
        self._graceful_shutdown = graceful_shutdown  # seconds before in-flight requests are cancelled
        self._loop_name = loop
        self._http = http
        self._protocol = _protocol_class(http)
        self._before_stop = before_stop
        self._slots: dict[str, _Slot] = {}
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._pending: set[asyncio.Task[None]] = set()

    def add(self, name: str, app: Callable[..., Any], *, port: int = 0, tls: TlsFiles | None = None,
            date_header: bool | Literal["app"] = True) -> None:
        """Register an app before ``start``.

        ``date_header=False``: the Date header the app sends is kept (a proxy's: the origin's), and the
        server's is added only to responses that have none; by default the server always adds its own.
        ``"app"``: the app sends a Date on every response itself (`http_date` when it has none to pass on),
        and the server adds none: no wrapper between the server and the app (the gateway's hot path).
        """
        if self._thread is not None:
            raise RuntimeError("add apps before start()")
        if name in self._slots:
            raise InputError(f"app {name!r} is registered twice")
        if date_header not in (True, False, "app"):
            raise InputError(f"date_header must be True, False or 'app', got {date_header!r}")
        served = date_when_missing(app) if date_header is False else app
        self._slots[name] = _Slot(name, served, port, tls, date_header)

    @property
    def names(self) -> list[str]:
        """Registered app names, in registration order."""
        return list(self._slots)

    def url(self, name: str) -> str:
        """``http(s)://host:port`` of an app (after ``start``)."""
        slot = self._slots[name]
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{'https' if slot.tls else 'http'}://{host}:{slot.port}"

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The serving loop (None before start)."""
        return self._loop

    def start(self) -> None:
        """Bind every port and start serving."""
        if self._thread is not None:
            raise RuntimeError("AppHost already started")
        try:
            for slot in self._slots.values():
                try:
                    slot.socket = _bind(self._host, slot.port)
                except OSError as exc:
                    raise RemoteError(
                        f"cannot listen on {self._host}:{slot.port} for {slot.name}: {exc.strerror}",
                        hint="choose a free port, or 0 for any",
                    ) from None
                slot.port = slot.socket.getsockname()[1]
        except BaseException:
            for slot in self._slots.values():
                if slot.socket is not None:
                    slot.socket.close()
                    slot.socket = None
            raise
        self._thread = threading.Thread(target=self._run, name="toolkit-emulator", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            self._thread.join()
            self._thread = None
            error, self._startup_error = self._startup_error, None
            raise RemoteError(f"the emulator failed to start: {error}") from error

    def add_live(self, name: str, app: Callable[..., Any], *, port: int = 0) -> str:
        """Add an app while the host runs (from any thread, the serving loop included); returns its URL.

        The socket listens at once, so connections made before the server task starts wait in the backlog.
        """
        if self._thread is None or self._loop is None:
            raise RuntimeError("AppHost is not running: use add() before start()")
        if name in self._slots:
            raise InputError(f"app {name!r} is registered twice")
        slot = _Slot(name, app, port, None)
        slot.socket = _bind(self._host, port)
        slot.socket.listen(128)
        slot.port = slot.socket.getsockname()[1]
        self._slots[name] = slot
        if threading.current_thread() is self._thread:
            task = self._loop.create_task(self._serve(slot))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
        else:
            self.call(self._serve(slot))
        return self.url(name)

    def set_listening(self, name: str, listening: bool) -> None:
        """Stop accepting connections on an app's port (connection refused) or accept them again."""
        self.call(self.aset_listening(name, listening))

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the serving loop from another thread and wait for its result."""
        loop = self._loop
        if loop is None or self._thread is None:
            coro.close()
            raise RuntimeError("AppHost is not running")
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("called from the serving loop: await the coroutine instead")
        return asyncio.run_coroutine_threadsafe(coro, loop).result(_CONTROL_TIMEOUT)

    def stop(self) -> None:
        """Stop every server, close every socket and join the thread (idempotent)."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None:
            return
        if self._before_stop is not None:
            self._before_stop()
        if loop is not None and stopping is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stopping.set)
        thread.join()
        self._thread = self._loop = self._stopping = None
        self._ready.clear()

    async def aset_listening(self, name: str, listening: bool) -> None:
        """``set_listening`` for callers on the serving loop."""
        slot = self._slots[name]
        if not listening and slot.server is not None:
            server = slot.server
            for listener in server.servers:
                listener.close()
            slot.socket = await self._rebind(slot.port)
            for connection in list(server.server_state.connections):
                connection.shutdown()
            server.should_exit = True
            if slot.task is not None:
                slot.retiring.append(slot.task)
            slot.server = slot.task = None
        elif listening and slot.server is None:
            await self._serve(slot)

    def _run(self) -> None:
        factory: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop
        if self._loop_name == "uvloop":
            import uvloop

            factory = uvloop.new_event_loop
        try:
            with asyncio.Runner(loop_factory=factory) as runner:
                runner.run(self._main())
        except BaseException as exc:
            if not self._ready.is_set():
                self._startup_error = exc
                self._ready.set()
            else:
                raise

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        try:
            for slot in self._slots.values():
                await self._serve(slot)
        except BaseException as exc:
            self._startup_error = exc
            await self._shutdown()
            self._ready.set()
            return
        self._ready.set()
        await self._stopping.wait()
        await self._shutdown()

    async def _serve(self, slot: _Slot) -> None:
        import uvicorn

        sock = slot.socket
        assert sock is not None
        tls_options: dict[str, Any] = {}
        if slot.tls:
            tls_options = {"ssl_certfile": slot.tls.cert_path, "ssl_keyfile": slot.tls.key_path,
                           "ssl_version": ssl_module.PROTOCOL_TLS_SERVER}
        config = uvicorn.Config(
            slot.app,
            http=self._protocol,
            ws="none",
            lifespan="off",
            log_config=None,
            access_log=False,
            proxy_headers=False,
            server_header=False,
            date_header=slot.date_header is True,
            timeout_graceful_shutdown=self._graceful_shutdown,
            **tls_options,
        )
        server = _server_class()(config)
        task = asyncio.create_task(server.serve(sockets=[sock]), name=f"emulator:{slot.name}")
        # Registered before it has started, so a shutdown meanwhile stops it too.
        slot.socket, slot.server, slot.task = None, server, task
        while not server.started:
            if task.done():
                slot.server = slot.task = None
                task.result()
                raise RuntimeError(f"server for {slot.name!r} exited during startup")
            await asyncio.sleep(0.001)

    async def _rebind(self, port: int) -> socket.socket:
        # A closed listener may take a loop iteration to release the port (uvloop closes handles async).
        for _ in range(1000):
            try:
                return _bind(self._host, port)
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                await asyncio.sleep(0.001)
        return _bind(self._host, port)

    async def _shutdown(self) -> None:
        # Apps added while running may still be starting: let them finish, then stop them with the rest.
        await asyncio.gather(*self._pending, return_exceptions=True)
        tasks: list[asyncio.Task[None]] = []
        for slot in self._slots.values():
            if slot.server is not None:
                # Drop open connections at once: a client may hold a keep-alive (TLS) connection without
                # reading, and a graceful close would wait for it and leave the transport open at loop end.
                for connection in list(slot.server.server_state.connections):
                    transport = getattr(connection, "transport", None)
                    if transport is not None:
                        transport.abort()
                slot.server.should_exit = True
            tasks.extend(t for t in (slot.task, *slot.retiring) if t is not None)
            slot.server = slot.task = None
            slot.retiring.clear()
            if slot.socket is not None:
                slot.socket.close()
                slot.socket = None
        await asyncio.gather(*tasks, return_exceptions=True)
