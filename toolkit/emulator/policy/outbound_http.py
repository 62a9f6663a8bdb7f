"""Requests a policy sends itself (send-request, send-one-way-request, llm-content-safety).

The emulator never leaves the machine: only loopback URLs are called (simulated backends, the
gateway itself, the issuer); https to loopback goes as plain http, which is what the emulator's
own services speak. Anything else fails like an unreachable host, with a message that says it is
the emulator's limit. The services' pooled HTTP client (``services.http``) sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from toolkit.emulator.hosting import is_loopback_host
from toolkit.emulator.policy.errors import BackendConnectionFailure, BackendTimeout
from toolkit.emulator.policy.routing import check_request_headers
from toolkit.emulator.policy.services import BackendResponse

_SKIP = frozenset({"host", "content-length", "connection", "transfer-encoding", "keep-alive"})


def outside_loopback(url: str) -> str | None:
    """Why ``url`` may not be called (None when it may)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"'{url}' is not an absolute http(s) URL"
    if not is_loopback_host(parts.hostname):
        return (f"the local emulator does not send requests to {parts.hostname} (APIM does); "
                "it calls only loopback addresses such as its simulated backends")
    return None


async def send(services: Any, method: str, url: str, headers: Sequence[tuple[str, str]], body: bytes,
               timeout: float, *, source: str) -> BackendResponse:
    """One HTTP call; raises BackendConnectionFailure (also for non-loopback URLs), BackendTimeout, or PolicyError
    (reason InvalidHeader) for a header with a line break, which is not sent."""
    from toolkit.emulator.gateway.http_client import ConnectFailure, ResponseTimeout

    problem = outside_loopback(url)
    if problem is not None:
        raise BackendConnectionFailure(problem, source=source)
    if url.startswith("https://"):  # the emulator's loopback services (gateway, simulators) speak plain HTTP
        url = "http://" + url[len("https://"):]
    clean = [(k, v) for k, v in headers if k.lower() not in _SKIP]
    check_request_headers(method, clean, source=source)  # set-header refuses such values already: any other way in
    try:
        response = await services.http.request(method, url, clean, body, timeout)
    except ResponseTimeout:
        raise BackendTimeout(source=source) from None
    except ConnectFailure as exc:
        raise BackendConnectionFailure(f"Cannot reach {url.split('?')[0]} ({exc}).", source=source) from None
    return BackendResponse(response.status, response.reason, list(response.headers), response.body)
