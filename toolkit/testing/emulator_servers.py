"""Serve an ASGI app on a free loopback port from a background thread (uvicorn), for tests and benchmarks."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from toolkit.errors import RemoteError

if TYPE_CHECKING:
    from toolkit.emulator.management.tls import TlsMaterial

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 10.0


def _bind(host: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.bind((host, 0))
    except OSError:
        sock.close()
        raise
    return sock


@contextmanager
def serve_app_in_thread(app: Any, *, ssl: TlsMaterial | None = None, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``app`` until the block ends; yields its base URL (``https://`` when ``ssl`` is given).

    The port is bound before the thread starts (no race for it); on exit open connections are
    dropped, the server stops, the thread is joined and the socket closed.
    """
    import uvicorn

    sock = _bind(host)
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
        ws="none",
        timeout_graceful_shutdown=2,
        ssl_certfile=str(ssl.cert_path) if ssl else None,
        ssl_keyfile=str(ssl.key_path) if ssl else None,
    )
    server = uvicorn.Server(config)
    failure: list[BaseException] = []
    loops: list[asyncio.AbstractEventLoop] = []

    async def main() -> None:
        loops.append(asyncio.get_running_loop())
        await server.serve(sockets=[sock])

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # reported to the caller below
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"toolkit-serve-{port}", daemon=True)
    thread.start()
    try:
        _wait_started(server, thread, failure)
        scheme = "https" if ssl else "http"
        shown = f"[{host}]" if ":" in host else host
        yield f"{scheme}://{shown}:{port}"
    finally:
        if loops and thread.is_alive():
            _abort_connections(server, loops[0])
        server.should_exit = True
        thread.join(_STOP_TIMEOUT)
        sock.close()


def _abort_connections(server: Any, loop: asyncio.AbstractEventLoop) -> None:
    """Drop open connections at once: a client may hold a keep-alive TLS connection without reading,
    and a graceful TLS close would then wait (and leave the transport unclosed at loop end)."""

    async def abort() -> None:
        for connection in list(server.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()

    try:
        asyncio.run_coroutine_threadsafe(abort(), loop).result(_STOP_TIMEOUT)
    except RuntimeError:  # the loop closed meanwhile: nothing left to abort
        pass


def _wait_started(server: Any, thread: threading.Thread, failure: list[BaseException]) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            reason = f": {failure[0]}" if failure else ""
            raise RemoteError(f"the test server did not start{reason}")
        time.sleep(0.005)


def management_client(
    base_url: str,
    ca_bundle: str | Any,
    subscription_id: str = "00000000-0000-0000-0000-000000000000",
    **options: Any,
) -> Any:
    """An ``ApiManagementClient`` for the emulator: static token, test CA, no retries, short timeouts.

    ``options`` override the client keywords (``retry_total``, ``polling_interval``, ...).
    """
    from azure.mgmt.apimanagement import ApiManagementClient

    from toolkit.emulator.management.credential import StaticTokenCredential

    settings: dict[str, Any] = {"retry_total": 0, "connection_timeout": 5, "polling_interval": 0.01}
    settings.update(options)
    return ApiManagementClient(StaticTokenCredential(), subscription_id, base_url=base_url,
                               connection_verify=str(ca_bundle), **settings)
