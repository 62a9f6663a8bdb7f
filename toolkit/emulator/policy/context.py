"""The state of one request as policies see it: request, response, variables, errors, trace.

`RequestContext` implements the expressions' `ExpressionContext` with plain slot attributes
(expressions read them with ``operator.attrgetter``), so evaluation stays cheap.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from toolkit.emulator import fast_json
from toolkit.emulator.policy.headers import HeaderMap, reason_phrase

if TYPE_CHECKING:
    from toolkit.emulator.policy.document import CompiledPolicy
    from toolkit.emulator.policy.errors import PolicyError

_UNPARSED: Any = object()


class Trace:
    """What the gateway did for one request: (ms since start, section, source, message, data) events."""

    __slots__ = ("events", "_clock", "_start")

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.events: list[tuple[float, str | None, str, str, dict[str, Any] | None]] = []
        self._clock = clock
        self._start = clock()

    def add(self, section: str | None, source: str, message: str, data: dict[str, Any] | None = None) -> None:
        """Record one event."""
        self.events.append(((self._clock() - self._start) * 1000.0, section, source, message, data))

    def find(self, source: str) -> list[dict[str, Any]]:
        """The events recorded by ``source`` (an element name or "pipeline"), as dicts."""
        return [event for event in self.to_list() if event["source"] == source]

    def to_list(self) -> list[dict[str, Any]]:
        """JSON-ready events: ``{"ms", "section", "source", "message", "data"}``."""
        return events_to_list(self.events)


TraceEvent = tuple[float, str | None, str, str, "dict[str, Any] | None"]


def events_to_list(events: Iterable[TraceEvent]) -> list[dict[str, Any]]:
    """`Trace` events (as recorded) in their JSON-ready form (the gateway converts them when they are read)."""
    return [
        {"ms": round(ms, 3), "section": section, "source": source, "message": message, "data": data or {}}
        for ms, section, source, message, data in events
    ]


class RequestContext:
    """One request through the gateway; policies read and change it, the gateway app answers from it."""

    __slots__ = (
        "request_method", "request_path", "request_query", "request_headers", "request_body", "_request_json",
        "path_suffix", "client_ip", "request_id", "region",
        "subscription_id", "subscription_name", "api_name", "api_id", "operation_id",
        "response_status", "response_reason", "response_headers", "response_body", "_response_json",
        "variables", "backend_id", "backend_url", "selected_backend", "forward_count",
        "last_error_reason", "last_error_message", "last_error_source", "last_error_section",
        "section", "chain", "level", "hooks", "cache_lookup", "trace",
        "per_request_headers", "response_stream",
        # optional request facts expressions read (None/empty when the gateway does not know them)
        "matched_parameters", "operation_query", "product_id", "product_name", "user_id", "user_email",
        "subscription_key",
        "operation_name", "last_error_scope", "last_error_policy_id", "last_error_path", "started_at",
        "request_scheme", "concurrency", "response_cache_key", "api_version", "after_answer", "counted_keys",
    )

    def __init__(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        headers: Iterable[tuple[str, str]] = (),
        body: bytes = b"",
        api_path: str = "",
        api_name: str | None = None,
        api_id: str | None = None,
        operation_id: str | None = None,
        subscription_id: str | None = None,
        subscription_name: str | None = None,
        client_ip: str | None = None,
        request_id: str | None = None,
        region: str | None = None,
        backend_id: str | None = None,
        backend_url: str | None = None,
        trace: Trace | None = None,
    ) -> None:
        self.request_method = method
        self.request_path = path
        self.request_query = query
        self.request_headers = headers if isinstance(headers, HeaderMap) else HeaderMap(headers)
        self.request_body = body
        self._request_json = _UNPARSED
        self.path_suffix = _suffix(path, api_path)
        self.client_ip = client_ip
        self.request_id = request_id
        self.region = region
        self.subscription_id = subscription_id
        self.subscription_name = subscription_name
        self.api_name = api_name
        self.api_id = api_id
        self.operation_id = operation_id
        self.response_status: int | None = None
        self.response_reason: str | None = None
        self.response_headers = HeaderMap()
        self.response_body = b""
        self._response_json = _UNPARSED
        self.variables: dict[str, object] = {}
        self.backend_id = backend_id  # set-backend-service backend-id (a single backend or a pool)
        self.backend_url = backend_url  # the API's service URL, or set-backend-service base-url
        self.selected_backend: str | None = None  # the backend (pool member) that served the last forward
        self.forward_count = 0
        self.last_error_reason: str | None = None
        self.last_error_message: str | None = None
        self.last_error_source: str | None = None
        self.last_error_section: str | None = None
        self.section: str | None = None
        self.chain: tuple[CompiledPolicy, ...] = ()
        self.level = 0
        self.hooks: list[Any] | None = None  # run once the backend section has produced a response
        self.cache_lookup: Any = None  # a semantic-cache miss waiting for the store policy
        # Work that runs once the answer has been sent (`pipeline.run_after_answer`): coroutine functions.
        self.after_answer: list[Callable[[], Awaitable[None]]] = []
        self.trace = trace
        # Response headers that describe this request only (a token limit's remaining tokens): never cached.
        self.per_request_headers: set[str] = set()
        # A backend's event stream relayed as it arrives (`BackendStream`), else None: the body is response_body.
        self.response_stream: Any = None
        self.matched_parameters: dict[str, str] = {}
        # The query part of the matched operation's URL template: (query name, parameter name) pairs.
        self.operation_query: tuple[tuple[str, str], ...] = ()
        self.product_id: str | None = None
        self.product_name: str | None = None
        self.user_id: str | None = None
        self.user_email: str | None = None
        self.subscription_key: str | None = None
        self.operation_name: str | None = operation_id
        self.last_error_scope: str | None = None
        self.last_error_policy_id: str | None = None
        self.last_error_path: str | None = None
        self.started_at = time.time()
        self.request_scheme = "https"
        self.concurrency: Any = None  # limit-concurrency permits held by this request
        self.response_cache_key: str | None = None  # cache-lookup missed: cache-store stores under this key
        self.api_version: str | None = None  # context.Api.Version: the API's version in its version set
        self.counted_keys: dict[str, int] | None = None  # quota-by-key counter -> calls this request counted (once)

    # -- ExpressionContext ----------------------------------------------------------------------

    def request_header(self, name: str) -> str | None:
        """Request header by case-insensitive name (repeated values comma-joined), or None."""
        return self.request_headers.get(name)

    def response_header(self, name: str) -> str | None:
        """Response header by case-insensitive name, or None (also before a response exists)."""
        return self.response_headers.get(name) if self.response_status is not None else None

    # -- bodies -----------------------------------------------------------------------------------

    def request_json(self) -> Any:
        """The request body parsed as JSON (cached), or None when it is not JSON."""
        if self._request_json is _UNPARSED:
            self._request_json = _parse_json(self.request_body)
        return self._request_json

    def response_json(self) -> Any:
        """The response body parsed as JSON (cached), or None when it is not JSON."""
        if self._response_json is _UNPARSED:
            self._response_json = _parse_json(self.response_body)
        return self._response_json

    def set_request_body(self, body: bytes) -> None:
        """Replace the request body."""
        self.request_body = body
        self._request_json = _UNPARSED

    def set_response(self, status: int, reason: str | None, headers: HeaderMap, body: bytes) -> None:
        """Replace the whole response."""
        self.response_status = status
        self.response_reason = reason if reason is not None else reason_phrase(status)
        self.response_headers = headers
        self.response_body = body
        self._response_json = _UNPARSED
        self.drop_stream()

    def set_response_body(self, body: bytes) -> None:
        """Replace the response body (creating a 200 response if there is none)."""
        self.ensure_response()
        self.response_body = body
        self._response_json = _UNPARSED
        self.drop_stream()

    def drop_stream(self) -> None:
        """Forget (and close) a relayed event stream: a policy replaced the response."""
        stream, self.response_stream = self.response_stream, None
        if stream is not None:
            stream.close()

    def ensure_response(self) -> None:
        """Make sure a response exists: APIM's default is 200 OK with no body."""
        if self.response_status is None:
            self.set_response(200, "OK", HeaderMap(), b"")

    # -- errors, hooks, trace ------------------------------------------------------------------

    def set_last_error(self, error: PolicyError) -> None:
        """Fill ``context.LastError`` from a request-time error."""
        self.last_error_reason = error.reason
        self.last_error_message = error.message
        self.last_error_source = error.source
        self.last_error_section = self.section
        self.last_error_scope = error.scope
        self.last_error_policy_id = error.policy_id

    def add_hook(self, hook: Any) -> None:
        """Run ``hook.after_backend(ctx, services)`` once a backend response exists (else ``hook.abandon``)."""
        if self.hooks is None:
            self.hooks = [hook]
        else:
            self.hooks.append(hook)

    def note(self, source: str, message: str, data: dict[str, Any] | None = None) -> None:
        """Add a trace event when tracing (callers building costly ``data`` check ``ctx.trace`` first)."""
        if self.trace is not None:
            self.trace.add(self.section, source, message, data)


def _suffix(path: str, api_path: str) -> str:
    """The operation path after the API's path (what APIM appends to the backend URL)."""
    prefix = "/" + api_path.strip("/") if api_path.strip("/") else ""
    if prefix and (path == prefix or path.startswith(prefix + "/")):
        return path[len(prefix):]
    return path


def _parse_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return fast_json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting: not JSON a policy can read
        return None
