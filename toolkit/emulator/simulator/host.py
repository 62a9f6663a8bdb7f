"""Serve many simulated backends, each on its own loopback port, from one background event loop.

A thin layer over `toolkit.emulator.hosting.AppHost`: "down" stops listening on the backend's port, so
clients get a real connection refused, and "up" listens on the same port again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from toolkit.emulator.hosting import DEFAULT_HTTP, DEFAULT_LOOP, AppHost
from toolkit.emulator.simulator.openai_app import SimulatedBackend, create_backend_app
from toolkit.errors import InputError


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
        # Hanging requests are released before shutdown, else uvicorn cancels them and logs errors.
        self._apps = AppHost(host, loop=loop, http=http, graceful_shutdown=graceful_shutdown,
                             before_stop=self._release_hangs)
        for name, backend in self._backends.items():
            self._apps.add(name, create_backend_app(backend), port=(ports or {}).get(name, 0))
        self._started = False

    @property
    def base_urls(self) -> dict[str, str]:
        """``{backend name: "http://127.0.0.1:<port>"}`` (empty before ``start``)."""
        return {name: self._apps.url(name) for name in self._backends} if self._started else {}

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
        self._apps.start()
        self._started = True
        for backend in self._backends.values():
            backend.down = False
        return self.base_urls

    def set_down(self, name: str, down: bool) -> None:
        """Refuse connections on the backend's port (``down``) or listen on the same port again."""
        self.backend(name)
        self._apps.set_listening(name, not down)
        self._backends[name].down = down

    async def aset_down(self, name: str, down: bool) -> None:
        """``set_down`` for callers already running on the host loop."""
        await self._apps.aset_listening(name, not down)
        self._backends[name].down = down

    def stop(self) -> None:
        """Stop every server, close every socket and join the thread (idempotent)."""
        self._apps.stop()
        self._started = False

    def _release_hangs(self) -> None:
        for backend in self._backends.values():
            backend.release_hangs()

    def __enter__(self) -> SimulatorHost:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
