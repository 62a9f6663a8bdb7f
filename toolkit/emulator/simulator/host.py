"""Serve many simulated backends, each on its own loopback port, from one background event loop.

One thread runs one asyncio loop with one uvicorn ``Server`` per backend (uvicorn's own loop setup
and signal handling are not used: ``Server.serve`` skips signal handlers off the main thread).
"Down" closes the listening socket, so clients get a real connection refused; the port stays
reserved by a bound, non-listening socket and "up" listens on it again.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import threading
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from toolkit.emulator.simulator.openai_app import SimulatedBackend, create_backend_app
from toolkit.errors import InputError, RemoteError

T = TypeVar("T")

# Chosen by benchmarks/simulator_backends.py (figures in its docstring).
DEFAULT_LOOP = "uvloop"
DEFAULT_HTTP = "httptools"
_CONTROL_TIMEOUT = 30.0


@dataclass
class _Slot:
    """One backend's serving state (touched only on the host loop)."""

    backend: SimulatedBackend
    port: int
    app: Callable[..., Any]
    socket: socket.socket | None = None  # bound; listening while a server owns it
    server: Any = None  # uvicorn.Server while up
    task: asyncio.Task[None] | None = None
    retiring: list[asyncio.Task[None]] = field(default_factory=list)


def _loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop]:
    if name == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    if name == "asyncio":
        return asyncio.new_event_loop
    raise InputError(f"simulator host: loop must be 'uvloop' or 'asyncio', got {name!r}")


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP (not 0): asyncio sets TCP_NODELAY on accepted connections only then,
    # and without it Nagle + delayed ACK cost ~40 ms per response.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    # Closed connections leave TIME_WAIT entries on this port; without this, "up" could not rebind.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class SimulatorHost:
    """Runs simulated Azure OpenAI backends on 127.0.0.1, one port each, in one background thread."""

    def __init__(
        self,
        backends: Iterable[SimulatedBackend],
        *,
        host: str = "127.0.0.1",
        ports: Mapping[str, int] | None = None,
        loop: str = DEFAULT_LOOP,
        http: str = DEFAULT_HTTP,
        graceful_shutdown: float = 1.0,
    ) -> None:
        self._backends: dict[str, SimulatedBackend] = {}
        for backend in backends:
            if backend.name in self._backends:
                raise InputError(f"simulator host: duplicate backend name {backend.name!r}")
            self._backends[backend.name] = backend
        unknown = sorted(set(ports or {}) - set(self._backends))
        if unknown:
            raise InputError(f"simulator host: ports given for unknown backend(s) {', '.join(unknown)}")
        if http not in ("httptools", "h11"):
            raise InputError(f"simulator host: http must be 'httptools' or 'h11', got {http!r}")
        self._host = host
        self._ports = dict(ports or {})
        self._loop_factory = _loop_factory(loop)
        self._http = http
        self._graceful_shutdown = graceful_shutdown  # seconds before in-flight (hanging) requests are cancelled
        self._slots: dict[str, _Slot] = {}
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None

    # -- public, thread-safe -------------------------------------------------------------------

    @property
    def base_urls(self) -> dict[str, str]:
        """``{backend name: "http://127.0.0.1:<port>"}`` (empty before ``start``)."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return {name: f"http://{host}:{slot.port}" for name, slot in self._slots.items()}

    def backend(self, name: str) -> SimulatedBackend:
        """The simulated backend called ``name``."""
        try:
            return self._backends[name]
        except KeyError:
            raise InputError(f"simulator host: no backend named {name!r}") from None

    @property
    def backends(self) -> dict[str, SimulatedBackend]:
        """All simulated backends by name."""
        return dict(self._backends)

    def start(self) -> dict[str, str]:
        """Bind every port, start serving, and return the base URL of each backend."""
        if self._thread is not None:
            raise RuntimeError("SimulatorHost already started")
        sockets: list[socket.socket] = []
        try:
            for name, backend in self._backends.items():
                port = self._ports.get(name, 0)
                try:
                    sock = _bind(self._host, port)
                except OSError as exc:
                    raise RemoteError(
                        f"simulator host: cannot listen on {self._host}:{port} for backend {name!r}: {exc.strerror}",
                        hint="choose a free port, or 0 for any",
                    ) from None
                sockets.append(sock)
                self._slots[name] = _Slot(backend, sock.getsockname()[1], create_backend_app(backend), sock)
        except BaseException:
            for sock in sockets:
                sock.close()
            self._slots.clear()
            raise
        self._thread = threading.Thread(target=self._run, name="toolkit-simulator", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            self._thread.join()
            self._thread = None
            error, self._startup_error = self._startup_error, None
            raise RemoteError(f"simulator host failed to start: {error}") from error
        return self.base_urls

    def set_down(self, name: str, down: bool) -> None:
        """Refuse connections on the backend's port (``down``) or listen on the same port again."""
        self.backend(name)
        self._call(self.aset_down(name, down))

    def stop(self) -> None:
        """Stop every server, close every socket and join the thread (idempotent)."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None:
            return
        if loop is not None and stopping is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stopping.set)
        thread.join()
        self._thread = None
        self._loop = None
        self._stopping = None
        self._ready.clear()

    def __enter__(self) -> SimulatorHost:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- on the host loop ----------------------------------------------------------------------

    async def aset_down(self, name: str, down: bool) -> None:
        """``set_down`` for callers already running on the host loop."""
        slot = self._slots[name]
        if down and slot.server is not None:
            server = slot.server
            for listener in server.servers:
                listener.close()  # closes the listening socket now: new connections are refused
            slot.socket = await self._rebind(slot.port)
            for connection in list(server.server_state.connections):
                connection.shutdown()  # idle keep-alive connections close; in-flight ones finish first
            server.should_exit = True
            slot.retiring = [t for t in slot.retiring if not t.done()]
            if slot.task is not None:
                slot.retiring.append(slot.task)  # finishes its graceful shutdown; awaited by stop()
            slot.server = slot.task = None
        elif not down and slot.server is None:
            await self._serve(slot)
        slot.backend.down = down

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        loop = self._loop
        if loop is None or self._thread is None:
            coro.close()
            raise RuntimeError("SimulatorHost is not running")
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("called from the simulator loop: await the async variant instead")
        return asyncio.run_coroutine_threadsafe(coro, loop).result(_CONTROL_TIMEOUT)

    def _run(self) -> None:
        try:
            with asyncio.Runner(loop_factory=self._loop_factory) as runner:
                runner.run(self._main())
        except BaseException as exc:  # reported to start() if it happened before ready
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
        config = uvicorn.Config(
            slot.app,
            http=self._http,
            ws="none",
            lifespan="off",
            log_config=None,
            access_log=False,
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=self._graceful_shutdown,
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]), name=f"simulator:{slot.backend.name}")
        while not server.started:
            if task.done():
                slot.socket = None
                task.result()  # raises the startup error
                raise RuntimeError(f"server for {slot.backend.name!r} exited during startup")
            await asyncio.sleep(0.001)
        slot.socket, slot.server, slot.task = None, server, task
        slot.backend.down = False

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
        tasks: list[asyncio.Task[None]] = []
        for slot in self._slots.values():
            slot.backend.release_hangs()  # else uvicorn cancels them after graceful_shutdown, logging errors
            if slot.server is not None:
                slot.server.should_exit = True
            tasks.extend(t for t in (slot.task, *slot.retiring) if t is not None)
            slot.server = slot.task = None
            slot.retiring.clear()
            if slot.socket is not None:
                slot.socket.close()
                slot.socket = None
        await asyncio.gather(*tasks, return_exceptions=True)
