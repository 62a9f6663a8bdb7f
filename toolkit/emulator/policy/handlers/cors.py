"""``<cors>``: answer CORS preflights and add CORS headers to responses for allowed origins."""

from __future__ import annotations

import re
from typing import Any

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.errors import EndRequest, ExpressionFailure
from toolkit.emulator.policy.headers import HeaderMap
from toolkit.emulator.policy.registry import handler
from toolkit.emulator.policy.values import truth

LISTS = {"allowed-origins": "origin", "allowed-methods": "method", "allowed-headers": "header",
         "expose-headers": "header"}
DEFAULT_METHODS = ("GET", "POST")  # docs: "If this section isn't present, GET and POST are supported."
DEFAULT_PORTS = {"http": 80, "https": 443}
# APIM's refusal of an origin such as https://*.example.com (Azure/api-management-developer-portal#2690).
BAD_ORIGIN = "Origin must be a valid URL consisting of scheme, host, and port only"
_ORIGIN = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::(\d{1,5}))?/?$")
WILDCARD_CREDENTIALS = "allow-credentials=\"true\" cannot be used with the wildcard origin *"
# Header names (HTTP compares them case-insensitively; the answer spells them as the Fetch standard does).
ORIGIN, REQUEST_METHOD, REQUEST_HEADERS = "Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"
ALLOW_ORIGIN, ALLOW_METHODS, ALLOW_HEADERS = ("Access-Control-Allow-Origin", "Access-Control-Allow-Methods",
                                              "Access-Control-Allow-Headers")
ALLOW_CREDENTIALS, MAX_AGE, EXPOSE_HEADERS = ("Access-Control-Allow-Credentials", "Access-Control-Max-Age",
                                              "Access-Control-Expose-Headers")


@handler("cors", sections=("inbound",), attributes=("allow-credentials", "terminate-unmatched-request"),
         children=tuple(LISTS), once_per_section=True,
         notes="A preflight (OPTIONS with Origin and Access-Control-Request-Method) from an allowed origin is "
         "answered 200 with the Access-Control-Allow-* headers; other requests from an allowed origin get "
         "Access-Control-Allow-Origin (and -Credentials, -Expose-Headers) on the response. Origins compare as "
         "scheme, host and port (default ports filled in, a trailing / ignored); without <allowed-methods>, GET "
         "and POST are allowed. An unmatched preflight, GET or HEAD ends with an empty 200 when "
         "terminate-unmatched-request is true (the default), else goes on. * is allowed in every list; "
         "allow-credentials, terminate-unmatched-request and preflight-result-max-age take expressions.")
class Cors(Policy):
    """Cross-origin resource sharing."""

    __slots__ = ("lists", "origins", "credentials", "terminate", "max_age")

    def __init__(self, lists: dict[str, tuple[str, ...]], credentials: Any, terminate: Any, max_age: Any) -> None:
        super().__init__()
        self.lists, self.credentials, self.terminate, self.max_age = lists, credentials, terminate, max_age
        self.origins = frozenset(normal_origin(o) or o for o in lists["allowed-origins"])

    @classmethod
    def compile(cls, element: Any, cc: Any) -> Cors:
        """The four lists (allowed-origins is required) and the switches."""
        lists: dict[str, tuple[str, ...]] = {"allowed-methods": DEFAULT_METHODS}
        max_age = None
        for child in cc.child_elements(element, tuple(LISTS)):
            item = LISTS[child.tag]
            cc.check_attributes(child, ("preflight-result-max-age",) if child.tag == "allowed-methods" else ())
            if child.tag == "allowed-methods":
                max_age = cc.integer(child, "preflight-result-max-age", minimum=0, expressions=True)
            values = []
            for entry in cc.child_elements(child, (item,)):
                cc.check_attributes(entry, ())
                cc.child_elements(entry, (), text=True)
                value = cc.text(entry)
                if item == "origin" and value != "*" and normal_origin(value) is None:
                    raise cc.reject(entry, f"<origin> {value!r}: {BAD_ORIGIN}")
                values.append(value)
            lists[child.tag] = tuple(values)
        if not lists.get("allowed-origins"):
            raise cc.reject(element, "<cors> needs <allowed-origins> with at least one <origin>")
        credentials = cc.flag(element, "allow-credentials", False)
        if credentials is True and "*" in lists["allowed-origins"]:
            raise cc.reject(element, f"<cors>: {WILDCARD_CREDENTIALS}")
        return cls(lists, credentials, cc.flag(element, "terminate-unmatched-request", True), max_age)

    def _allows(self, name: str, value: str) -> bool:
        allowed = self.lists.get(name, ())
        return "*" in allowed or value.lower() in {a.lower() for a in allowed}

    def _allows_origin(self, origin: str) -> bool:
        return "*" in self.origins or normal_origin(origin) in self.origins

    def _credentials(self, ctx: Any) -> bool:
        allowed = truth(self.credentials, ctx)
        if allowed and "*" in self.origins:  # what publish refuses for a constant: an expression's value
            raise ExpressionFailure(f"<cors> {WILDCARD_CREDENTIALS}.", source="cors")
        return allowed

    async def run(self, ctx: Any, services: Any) -> None:
        """Answer a preflight or arrange the response headers."""
        origin = ctx.request_header(ORIGIN)
        if origin is None:
            return
        matched = self._allows_origin(origin)
        method = ctx.request_header(REQUEST_METHOD) if ctx.request_method == "OPTIONS" else None
        if method:
            self._preflight(ctx, origin, method, matched)
        elif matched:
            ctx.add_hook(_CorsHeaders(self, origin, self._credentials(ctx)))
        elif ctx.request_method in ("GET", "HEAD") and truth(self.terminate, ctx):
            # docs: an unmatched simple GET or HEAD ends "with an empty 200 OK response"
            ctx.set_response(200, None, HeaderMap(), b"")
            ctx.note("cors", "request from an unmatched origin ended")
            raise EndRequest

    def _preflight(self, ctx: Any, origin: str, method: str, matched: bool) -> None:
        wanted = [h.strip() for h in (ctx.request_header(REQUEST_HEADERS) or "").split(",")
                  if h.strip()]
        ok = matched and self._allows("allowed-methods", method) and all(
            self._allows("allowed-headers", h) for h in wanted)
        if not ok and not truth(self.terminate, ctx):
            return
        headers = HeaderMap()
        if ok:
            headers.set(ALLOW_ORIGIN, [origin])
            headers.set(ALLOW_METHODS, [method])
            if wanted:
                headers.set(ALLOW_HEADERS, [", ".join(wanted)])
            if self._credentials(ctx):
                headers.set(ALLOW_CREDENTIALS, ["true"])
            if self.max_age is not None and (max_age := self.max_age.get(ctx, "cors")) is not None:
                headers.set(MAX_AGE, [str(max_age)])
        ctx.set_response(200, None, headers, b"")  # reason None: "OK", from the status
        ctx.note("cors", "preflight " + ("allowed" if ok else "refused"))
        raise EndRequest

    def headers_for(self, origin: str, credentials: bool) -> list[tuple[str, str]]:
        """The CORS headers of a response to an allowed origin (the Origin as the request sent it)."""
        out = [(ALLOW_ORIGIN, origin if credentials or "*" not in self.origins else "*")]
        if credentials:
            out.append((ALLOW_CREDENTIALS, "true"))
        if self.lists.get("expose-headers"):
            out.append((EXPOSE_HEADERS, ", ".join(self.lists["expose-headers"])))
        return out


def normal_origin(origin: str) -> str | None:
    """``scheme://host:port``, scheme and host lower-cased and the default port filled in; None when ``origin``
    is not a scheme, a host and an optional port (a trailing "/" is ignored)."""
    match = _ORIGIN.match(origin.strip())
    if match is None:
        return None
    scheme, host, port = match.group(1).lower(), match.group(2).lower(), match.group(3)
    number = int(port) if port else DEFAULT_PORTS.get(scheme)
    if number is not None and not 0 < number < 65536:
        return None
    return f"{scheme}://{host}" if number is None else f"{scheme}://{host}:{number}"


class _CorsHeaders:
    __slots__ = ("policy", "origin", "credentials")

    def __init__(self, policy: Cors, origin: str, credentials: bool) -> None:
        self.policy, self.origin, self.credentials = policy, origin, credentials

    async def after_backend(self, ctx: Any, services: Any) -> None:
        for name, value in self.policy.headers_for(self.origin, self.credentials):
            ctx.response_headers.set(name, [value])

    def abandon(self, ctx: Any, services: Any) -> None:
        """No backend answer: the response is an error or a returned one; left as it is."""
