"""One attempt at the backend: pick the backend (pool member), call it, feed its breaker.

Each call re-selects: a pool member is drawn with `PoolRouter.choose(services.is_available)`,
so a retry after a breaker trips lands on another member or the next priority group. Every
backend status (and Retry-After) goes to the member's breaker; connection failures and
timeouts go as connection failures (they count only when the rule lists errorReasons).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from toolkit.emulator.gateway.backend_credentials import with_query
from toolkit.emulator.policy.headers import HeaderMap
from toolkit.emulator.policy.errors import (
    BackendConnectionFailure,
    BackendTimeout,
    BackendUnavailable,
    PolicyError,
)
from toolkit.emulator.policy.services import PoolBackend, SingleBackend

if TYPE_CHECKING:
    from toolkit.emulator.gateway.breaker import CircuitBreaker
    from toolkit.emulator.policy.context import RequestContext


def resolve_target(services: Any, backend_id: str, source: str) -> tuple[str, str, CircuitBreaker | None]:
    """(backend name, url, breaker) to call for ``backend_id``: the backend, or a pool member drawn now."""
    target = services.backend(backend_id)
    if target is None:
        raise PolicyError(f"Backend '{backend_id}' does not exist.", source=source, reason="BackendNotFound")
    if isinstance(target, PoolBackend):
        name = target.router.choose(services.is_available)
        if name is None:
            raise BackendUnavailable(
                f"Backend pool {backend_id} is temporarily unavailable: the circuit breaker of every member is open.",
                source=source,
            )
        member = services.backend(name)
        if not isinstance(member, SingleBackend):
            raise PolicyError(f"Pool member '{name}' of '{backend_id}' is not a single backend.", source=source,
                              reason="BackendNotFound")
        return name, member.url, member.breaker
    if target.breaker is not None and target.breaker.is_open():
        raise BackendUnavailable(
            f"Backend {backend_id} is temporarily unavailable: its circuit breaker is open.", source=source
        )
    return target.name, target.url, target.breaker


def credentials_of(services: Any, name: str | None) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """(headers, query parameters) the ``credentials`` of backend ``name`` add to a call (none for a base URL)."""
    backend = services.backend(name) if name is not None else None
    if isinstance(backend, SingleBackend):
        return backend.credential_headers, backend.credential_query
    return (), ()


def check_request_headers(method: str, headers: Sequence[tuple[str, str]], *, source: str) -> None:
    """PolicyError (reason InvalidHeader) when the method or a header of a request the policies send holds a line
    break or NUL (`check_request_head`): the request is not sent."""
    from toolkit.emulator.gateway.http_client import InvalidRequestHead, check_request_head

    try:
        check_request_head(method, headers)
    except InvalidRequestHead as exc:
        raise PolicyError(f"{exc}.", source=source, reason="InvalidHeader") from None


def url_without_query(url: str) -> str:
    """A URL as shown in traces and messages: no query string (it may carry a subscription key)."""
    return url.split("?", 1)[0]


def backend_url(base: str, suffix: str, query: str) -> str:
    """APIM's forwarded URL: the backend URL, the operation path after the API path, the query string."""
    url = base.rstrip("/") + suffix if suffix else base
    return f"{url}?{query}" if query else url


async def forward_once(
    ctx: RequestContext,
    services: Any,
    *,
    timeout: float,
    follow_redirects: bool = False,
    buffer_request_body: bool = False,
    fail_on_error_status_code: bool = False,
    source: str = "forward-request",
) -> None:
    """Forward the request once and make the backend's answer the current response."""
    if ctx.backend_id is not None:
        name, base, breaker = resolve_target(services, ctx.backend_id, source)
    elif ctx.backend_url:
        # A base-url off the machine goes to a simulated instance when the gateway provides them.
        simulated = getattr(services, "simulated_url", None)
        name, base, breaker = None, simulated(ctx.backend_url) if simulated else ctx.backend_url, None
    else:
        raise PolicyError("No backend service is set for this request.", source=source, reason="BackendNotSet")
    # APIM re-sends an unbuffered body empty (bosma; service-fabric-issues#346): emulate it.
    body = b"" if ctx.forward_count and not buffer_request_body and ctx.request_body else None
    ctx.forward_count += 1
    ctx.selected_backend = name
    credential_headers, credential_query = credentials_of(services, name)
    url = with_query(backend_url(base, ctx.path_suffix, ctx.request_query), credential_query)
    extra = {"extra_headers": credential_headers} if credential_headers else {}
    started = time.perf_counter()
    try:
        response = await services.forward(ctx, url, timeout, follow_redirects=follow_redirects, body=body, **extra)
    except (BackendConnectionFailure, BackendTimeout) as exc:
        tripped = breaker.record(None, connection_failure=True) if breaker is not None else None
        if ctx.trace is not None:
            ctx.note(source, f"attempt {ctx.forward_count}: {exc.reason}", _attempt(ctx, name, url, None, started, tripped))
        raise
    headers = HeaderMap(response.headers)
    tripped = None
    if breaker is not None:
        tripped = breaker.record(response.status, retry_after=headers.get("retry-after"))
    ctx.set_response(response.status, response.reason, headers, response.body)
    ctx.response_stream = response.stream  # an event stream: relayed to the client as it arrives
    if ctx.trace is not None:
        ctx.note(source, f"attempt {ctx.forward_count}: {response.status}",
                 _attempt(ctx, name, url, response.status, started, tripped))
    if fail_on_error_status_code and 400 <= response.status <= 599:
        raise PolicyError(
            f"The backend answered {response.status} and fail-on-error-status-code is true.",
            source=source, reason="BackendErrorStatusCode", status=response.status,
            headers=headers.items(), body=response.body,
        )


def _attempt(
    ctx: RequestContext, name: str | None, url: str, status: int | None, started: float, tripped: Any
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "attempt": ctx.forward_count, "backend": name, "url": url_without_query(url), "status": status,
        "elapsed_ms": round((time.perf_counter() - started) * 1000.0, 3),
    }
    if tripped is not None:
        data["breaker"] = {"tripped": True, "open_until": tripped.open_until,
                           "retry_after_used": tripped.retry_after_used}
    return data
