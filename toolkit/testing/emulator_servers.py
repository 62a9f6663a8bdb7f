"""Serve an ASGI app on a free loopback port from a background thread (uvicorn), for tests and benchmarks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from toolkit.emulator.management.tls import TlsMaterial

@contextmanager
def serve_app_in_thread(app: Any, *, ssl: TlsMaterial | None = None, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``app`` until the block ends; yields its base URL (``https://`` when ``ssl`` is given).

    The emulator's own AppHost does the work: the port is bound before the thread starts, and on exit
    open connections are dropped, the server stops and the thread is joined.
    """
    from toolkit.emulator.hosting import AppHost, TlsFiles

    apps = AppHost(host, graceful_shutdown=2)
    apps.add("app", app, tls=TlsFiles(str(ssl.cert_path), str(ssl.key_path)) if ssl else None)
    apps.start()
    try:
        yield apps.url("app")
    finally:
        apps.stop()


def management_client(
    base_url: str,
    ca_bundle: str | Any,
    subscription_id: str = "00000000-0000-0000-0000-000000000000",
    *,
    token: str,
    **options: Any,
) -> Any:
    """An ``ApiManagementClient`` for the emulator: its ``token`` (``plane.token`` / ``emulator.control_token``),
    test CA, no retries, short timeouts.

    ``options`` override the client keywords (``retry_total``, ``polling_interval``, ...).
    """
    from azure.mgmt.apimanagement import ApiManagementClient

    from toolkit.emulator.management.credential import StaticTokenCredential

    settings: dict[str, Any] = {"retry_total": 0, "connection_timeout": 5, "polling_interval": 0.01}
    settings.update(options)
    return ApiManagementClient(StaticTokenCredential(token), subscription_id, base_url=base_url,
                               connection_verify=str(ca_bundle), **settings)


def control_client(emulator: Any, **options: Any) -> Any:
    """An ``httpx.Client`` on a running emulator's control API, sending its token (close it, or use ``with``)."""
    import httpx

    from toolkit.emulator.access import bearer

    settings: dict[str, Any] = {"timeout": 30.0}
    settings.update(options)
    return httpx.Client(base_url=emulator.control_url, headers=bearer(emulator.control_token), **settings)
