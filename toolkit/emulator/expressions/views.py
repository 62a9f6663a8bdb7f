"""`context` members that are objects rather than scalars: URLs, bodies, header and parameter dictionaries.

Each view is built from the request context when the expression reads it. Context attributes a
plain `ExpressionContext` may lack (product, user, matched parameters, ...) read as null/empty.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from .library import Body, CsList, MultiValueDict, Url


def _headers(headers: Any) -> MultiValueDict:
    out = MultiValueDict()
    pairs = headers.items() if headers is not None else ()
    for name, value in pairs:
        out.setdefault(name, CsList()).append(value)
    return out


def _url(ctx: Any, original: bool = False) -> Url:
    host = (getattr(ctx, "request_header", lambda name: None)("host") or "localhost")
    name, _, port = host.partition(":")
    scheme = getattr(ctx, "request_scheme", None) or "https"
    default_port = 443 if scheme == "https" else 80
    return Url(scheme, name, int(port) if port.isdigit() else default_port, getattr(ctx, "request_path", "/") or "/",
               getattr(ctx, "request_query", "") or "")


def _body(ctx: Any, response: bool) -> Body | None:
    if response:
        if getattr(ctx, "response_status", None) is None:
            return None
        return Body(lambda: getattr(ctx, "response_body", b"") or b"")
    return Body(lambda: getattr(ctx, "request_body", b"") or b"")


def _start(ctx: Any) -> datetime:
    started = getattr(ctx, "started_at", None)
    return datetime.fromtimestamp(started, UTC) if started else datetime.now(UTC)


def attr(name: str) -> Callable[[Any], Any]:
    """A reader of an optional context attribute (None when the context has none)."""
    return lambda ctx: getattr(ctx, name, None)


# path → reader(ctx); the compiler turns `path` into a runtime (dynamic) value with these.
VIEWS: dict[str, Callable[[Any], Any]] = {
    "context.Request.Url": _url,
    "context.Request.OriginalUrl": lambda ctx: _url(ctx, True),
    "context.Request.Headers": lambda ctx: _headers(getattr(ctx, "request_headers", None)),
    "context.Request.Body": lambda ctx: _body(ctx, False),
    "context.Request.MatchedParameters": lambda ctx: dict(getattr(ctx, "matched_parameters", None) or {}),
    "context.Response.Headers": lambda ctx: _headers(getattr(ctx, "response_headers", None)
                                                     if getattr(ctx, "response_status", None) is not None else None),
    "context.Response.Body": lambda ctx: _body(ctx, True),
    "context.Variables": lambda ctx: ctx.variables,
    "context.Timestamp": _start,
    "context.Elapsed": lambda ctx: datetime.now(UTC) - _start(ctx) if getattr(ctx, "started_at", None) else timedelta(0),
    "context.Tracing": lambda ctx: getattr(ctx, "trace", None) is not None,
}
# Scalar context members the original subset did not have, as (path, C# type, reader, summary).
EXTRA_PROPERTIES: tuple[tuple[str, str, str, str], ...] = (
    ("context.Product.Id", "string", "product_id", "product id; null without a product"),
    ("context.Product.Name", "string", "product_name", "product display name"),
    ("context.User.Id", "string", "user_id", "user id of the subscription owner; null without one"),
    ("context.User.Email", "string", "user_email", "user email"),
    ("context.User.FirstName", "string", "user_first_name", "user first name"),
    ("context.User.LastName", "string", "user_last_name", "user last name"),
    ("context.Subscription.Key", "string", "subscription_key", "the subscription key used by the call"),
    ("context.Subscription.PrimaryKey", "string", "subscription_key", "the subscription key (the emulator keeps one)"),
    ("context.Operation.Name", "string", "operation_name", "operation display name"),
    ("context.Operation.Method", "string", "operation_method", "operation method"),
    ("context.Operation.UrlTemplate", "string", "operation_template", "operation URL template"),
    ("context.Api.Path", "string", "api_path", "API path"),
    ("context.Api.Version", "string", "api_version", "API version"),
    ("context.Deployment.ServiceName", "string", "service_name", "the emulated service's name"),
    ("context.Deployment.ServiceId", "string", "service_name", "the emulated service's id"),
    ("context.LastError.Scope", "string", "last_error_scope", "scope of the failed policy"),
    ("context.LastError.Section", "string", "last_error_section", "section of the failed policy"),
    ("context.LastError.Path", "string", "last_error_path", "path of the failed policy"),
    ("context.LastError.PolicyId", "string", "last_error_policy_id", "id attribute of the failed policy"),
)
VIEW_SUMMARIES: dict[str, str] = {
    "context.Request.Url": "IUrl: Scheme, Host, Port, Path, Query (name → string[]), QueryString, ToString()",
    "context.Request.OriginalUrl": "the URL as received (same members as Url)",
    "context.Request.Headers": "dictionary name → string[] (case-insensitive); GetValueOrDefault joins values",
    "context.Request.Body": "As<string|JObject|JArray|JToken>(preserveContent: bool)",
    "context.Request.MatchedParameters": "operation template parameters, name → string",
    "context.Response.Headers": "response headers as a dictionary (empty before a response exists)",
    "context.Response.Body": "As<T>(preserveContent) of the response body; null before a response exists",
    "context.Variables": "the variables dictionary (enumerable; Count, ContainsKey, GetValueOrDefault)",
    "context.Timestamp": "DateTime (UTC) the request arrived",
    "context.Elapsed": "TimeSpan since the request arrived",
    "context.Tracing": "bool: whether the request is traced",
}
