"""The gate in front of every emulator surface (gateway, management, control): raw ASGI middleware.

It answers, in the surface's own JSON error shape and before the app runs:

- 403 when the ``Host`` header is not a loopback name (DNS rebinding: a web page on ``evil.example``
  resolving to 127.0.0.1), or (management and control) the request comes from a web page of another
  site (``Origin`` not loopback, ``Sec-Fetch-Site: cross-site``): browsers send those, command-line
  clients do not;
- 401 without ``Authorization: Bearer <token>`` when the surface has a token (management and control);
- 415 when the surface takes JSON only (control) and the body is declared as anything else: the CSRF
  case is a ``text/plain`` POST, which a page may send cross-site without a CORS preflight;
- 413 when the body is larger than the surface's limit (by ``Content-Length`` at once, or while it
  is read when it is sent chunked).

Last, it is the surface's last-resort handler: an exception that escapes the app becomes a logged
JSON 500 (no traceback to the client), so no input ever gets the server's plain-text 500.
"""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import ClientDisconnect

from toolkit.emulator.hosting import http_date, is_loopback_host

log = logging.getLogger(__name__)

# Body limits. Gateway: APIM's documented limits (v2 tiers: "Maximum request payload size 1 GiB",
# "Maximum buffered payload size 2 MiB"); bodies over the buffered size are streamed to the backend.
# Management: the emulator's own 4 MiB (APIM documents 256 KiB per policy document and 4 MB per API
# schema, the largest things a management body carries). Control: the emulator's own 1 MiB.
GATEWAY_MAX_BODY_BYTES = 1024 ** 3
GATEWAY_MAX_BUFFERED_BYTES = 2 * 1024 ** 2
MANAGEMENT_MAX_BODY_BYTES = 4 * 1024 ** 2
CONTROL_MAX_BODY_BYTES = 1024 ** 2

ErrorBody = Callable[[int, str, str], dict[str, Any]]
"""(status, code, message) -> the JSON error body of a surface."""


def arm_error_body(status: int, code: str, message: str) -> dict[str, Any]:
    """The ARM / control API error shape: ``{"error": {"code", "message"}}``."""
    return {"error": {"code": code, "message": message}}


def gateway_error_body(status: int, code: str, message: str) -> dict[str, Any]:
    """The APIM gateway's own error shape: ``{"statusCode", "message"}``."""
    return {"statusCode": status, "message": message}


class BodyTooLarge(Exception):
    """A request body went over the surface's limit while being read."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is larger than {limit} bytes")
        self.limit = limit


@dataclass(frozen=True)
class GuardRules:
    """What one surface requires.

    ``token``: the bearer token every request needs (None: no token, e.g. the gateway, which checks
    subscription keys itself). ``open_paths``: path prefixes served without the token (public
    documents such as the issuer's JWKS). ``json_only``: bodies must be ``application/json``.
    """

    surface: str
    error_body: ErrorBody
    max_body_bytes: int
    token: str | None = None
    open_paths: tuple[str, ...] = ()
    json_only: bool = False
    same_site_only: bool = True  # the gateway serves web pages of any origin (its cors policy decides)
    date_header: bool = False  # the guard's own answers carry a Date (a surface whose server adds none)


def host_name(host_header: str) -> str:
    """The name in a ``Host`` header (``[::1]:8080`` -> ``::1``, ``localhost:80`` -> ``localhost``)."""
    host = host_header.strip()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    if host.count(":") == 1:
        return host.partition(":")[0]
    return host


@functools.lru_cache(maxsize=256)  # a client sends the same Host on every request: ip_address parses it once
def _names_loopback(host_header: str) -> bool:
    return is_loopback_host(host_name(host_header).rstrip("."))


def _loopback_origin(origin: str) -> bool:
    try:
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and bool(parts.hostname) and is_loopback_host(parts.hostname or "")
    except ValueError:
        return False


_GUARDED_HEADERS = frozenset({b"host", b"origin", b"sec-fetch-site", b"authorization", b"content-type",
                              b"content-length", b"transfer-encoding"})


def guarded_headers(scope: dict[str, Any]) -> dict[str, str]:
    """The request headers the guard reads (the first value of each), by lower-case name; only those are decoded."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.lower()
        if name in _GUARDED_HEADERS:
            if name == b"host" and "host" in headers:
                headers[_SECOND_HOST] = raw_value.decode("latin-1")
            headers.setdefault(name.decode("latin-1"), raw_value.decode("latin-1"))
    return headers


_SECOND_HOST = " second host"  # a key no header name can have: a second Host line (RFC 9112 3.2: 400)
TARGET_HOST = "toolkit.target_host"  # scope key: the host of an absolute-form request target (hosting.py)


def refusal(rules: GuardRules, scope: dict[str, Any],
            headers: dict[str, str] | None = None) -> tuple[int, str, str] | None:
    """Why a request is refused before its body is read: (status, code, message), or None.

    ``headers``: `guarded_headers` of the scope, when the caller has them already.
    """
    if headers is None:
        headers = guarded_headers(scope)
    host = headers.get("host")
    if _SECOND_HOST in headers:
        return 400, "BadRequest", "a request has one Host header, not two (RFC 9112, section 3.2)"
    if host is None and scope.get("http_version") == "1.1":
        return 400, "BadRequest", "an HTTP/1.1 request needs a Host header (RFC 9112, section 3.2)"
    target = scope.get(TARGET_HOST)  # the host of "POST http://host/path HTTP/1.1": it takes precedence over Host
    for name, value in (("the request target's host", target), ("Host", host)):
        if value is not None and not _names_loopback(value):
            return 403, "Forbidden", (f"the local emulator's {rules.surface} answers loopback host names only "
                                      f"(localhost, 127.0.0.1, ::1), not {name}: {value[:100]!r}")
    origin = headers.get("origin")
    cross_site = (origin is not None and not _loopback_origin(origin)) or headers.get("sec-fetch-site") == "cross-site"
    if rules.same_site_only and cross_site:
        return 403, "Forbidden", (f"the local emulator's {rules.surface} refuses requests from web pages of "
                                  "other sites (Origin / Sec-Fetch-Site)")
    path = scope.get("path", "")
    if rules.token is not None and not any(path.startswith(prefix) for prefix in rules.open_paths):
        scheme, _, given = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), rules.token.encode()):
            return 401, "AuthenticationFailed", (
                f"the local emulator's {rules.surface} needs 'Authorization: Bearer <token>' with the token of this "
                "run (TOOLKIT_EMULATOR_TOKEN, or the token file `toolkit emulator start` writes)")
    if rules.json_only and scope.get("method") in ("POST", "PUT", "PATCH", "DELETE"):
        content_type = headers.get("content-type")
        declared = (content_type or "").partition(";")[0].strip().lower()
        has_body = headers.get("content-length", "0").strip() not in ("0", "") or "transfer-encoding" in headers
        if (content_type is not None and declared != "application/json") or (content_type is None and has_body):
            return 415, "UnsupportedMediaType", (f"the {rules.surface} accepts 'Content-Type: application/json' "
                                                 f"bodies only, not {content_type!r}")
    length = headers.get("content-length")
    if length is not None:
        if not length.strip().isdigit():
            return 400, "BadRequest", f"Content-Length is not a number: {length[:40]!r}"
        if int(length) > rules.max_body_bytes:
            return 413, "RequestEntityTooLarge", _too_large(rules)
    return None


def _counted(receive: Callable[..., Any], limit: int) -> Callable[..., Any]:
    """``receive`` raising BodyTooLarge once the body read through it passes ``limit`` bytes."""
    received = 0

    async def counted_receive() -> Any:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
        return message

    return counted_receive


def _too_large(rules: GuardRules) -> str:
    return f"the request body is larger than the {rules.surface}'s limit of {rules.max_body_bytes} bytes"


class RequestGuard:
    """ASGI middleware applying ``rules`` in front of ``app`` (see the module docstring)."""

    def __init__(self, app: Callable[..., Awaitable[None]], rules: GuardRules) -> None:
        self.app = app
        self.rules = rules

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = guarded_headers(scope)
        refused = refusal(self.rules, scope, headers)
        if refused is not None:
            await self._answer(send, *refused)
            return
        started = False

        def tracked_send(message: dict[str, Any]) -> Awaitable[None]:  # send's own awaitable: no coroutine of its own
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            return send(message)  # type: ignore[no-any-return]

        # A Content-Length within the limit (refusal checked it) frames the body: the server reads no more than
        # that, so only a body of unknown length (chunked) is counted while it is read.
        length_framed = "content-length" in headers and "transfer-encoding" not in headers
        try:
            await self.app(scope, receive if length_framed else _counted(receive, self.rules.max_body_bytes),
                           tracked_send)
        except BodyTooLarge:
            if not started:
                await self._answer(send, 413, "RequestEntityTooLarge", _too_large(self.rules))
        except ClientDisconnect:
            return  # the client went away mid-body: nobody to answer
        except Exception:
            log.exception("%s: unhandled error on %s %s", self.rules.surface, scope.get("method"), scope.get("path"))
            if not started:
                await self._answer(send, 500, "InternalServerError",
                                   f"the local emulator's {self.rules.surface} failed to process the request "
                                   "(an emulator bug: the details are in its log)")

    async def _answer(self, send: Callable[..., Any], status: int, code: str, message: str) -> None:
        import json

        payload = json.dumps(self.rules.error_body(status, code, message)).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                   (b"connection", b"close")]
        if self.rules.date_header:
            headers.append((b"date", http_date()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


def starlette_error_handlers(surface: str, error_body: ErrorBody) -> dict[Any, Callable[..., Any]]:
    """Exception handlers for a Starlette surface: a body over the limit -> 413, anything else -> JSON 500.

    Starlette answers an escaped exception itself (plain text) before re-raising it, so the JSON 500 has
    to be its handler; the exception still reaches :class:`RequestGuard`, which logs it.
    """
    from starlette.responses import JSONResponse

    async def too_large(request: Any, exc: Exception) -> Any:
        limit = exc.limit if isinstance(exc, BodyTooLarge) else 0
        message = f"the request body is larger than the {surface}'s limit of {limit} bytes"
        return JSONResponse(error_body(413, "RequestEntityTooLarge", message), status_code=413)

    async def internal(request: Any, exc: Exception) -> Any:
        message = f"the local emulator's {surface} failed to process the request (an emulator bug: see its log)"
        return JSONResponse(error_body(500, "InternalServerError", message), status_code=500)

    return {BodyTooLarge: too_large, Exception: internal}
