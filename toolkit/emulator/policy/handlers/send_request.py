"""``<send-request>``: call another service and keep its response in a variable (an ``IResponse``).

Children build the request: ``<set-url>``, ``<set-method>``, ``<set-header>``, ``<set-body>``
(evaluated against the current request's context). mode="copy" starts from the current request.
"""

from __future__ import annotations

from typing import Any

from toolkit.emulator.expressions.library import Message, MultiValueDict
from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.errors import BackendConnectionFailure, BackendTimeout
from toolkit.emulator.policy.headers import HeaderMap
from toolkit.emulator.policy.outbound_http import send
from toolkit.emulator.policy.registry import SECTIONS, handler
from toolkit.emulator.policy.values import IntSetting, text_of

CHILDREN = ("set-url", "set-method", "set-header", "set-body")


class OutgoingRequest:
    """The request a send-request (or send-one-way-request) builds: compiled from its children."""

    __slots__ = ("copy", "url", "method", "headers", "body")

    def __init__(self, copy: bool, url: Any, method: Any, headers: tuple[Any, ...], body: Any) -> None:
        self.copy, self.url, self.method, self.headers, self.body = copy, url, method, headers, body

    @classmethod
    def compile(cls, element: Any, cc: Any) -> OutgoingRequest:
        """mode (new | copy) and the children; a new request needs <set-url>."""
        copy = cc.choice(element, "mode", ("new", "copy"), "new") == "copy"
        url = method = body = None
        headers = []
        for child in cc.child_elements(element, CHILDREN):
            name = child.tag
            if name in ("set-url", "set-method"):
                cc.check_attributes(child, ())
                cc.child_elements(child, (), text=True)
                value = cc.text_value(child, expect="string")
                if name == "set-url":
                    url = value
                else:
                    method = value
            else:
                policy = cc.compile_element(child, check_section=False)
                if name == "set-header":
                    headers.append(policy)
                else:
                    body = policy.value
        if url is None and not copy:
            raise cc.reject(element, f"<{element.tag}> needs <set-url> (or mode=\"copy\")")
        return cls(copy, url, method, tuple(headers), body)

    def build(self, ctx: Any) -> tuple[str, str, HeaderMap, bytes]:
        """(method, url, headers, body) for this request."""
        if self.copy:
            method, headers, body = ctx.request_method, ctx.request_headers.copy(), ctx.request_body
            url = f"{ctx.request_scheme}://{ctx.request_header('host') or 'localhost'}{ctx.request_path}"
            if ctx.request_query:
                url += "?" + ctx.request_query
        else:
            method, headers, body, url = "GET", HeaderMap(), b"", ""
        if self.url is not None:
            url = text_of(self.url, ctx).strip()
        if self.method is not None:
            method = text_of(self.method, ctx).strip().upper()
        for header in self.headers:
            header.apply(headers, ctx)
        if self.body is not None:
            body = text_of(self.body, ctx).encode("utf-8")
        return method, url, headers, body


@handler(
    "send-request",
    sections=SECTIONS,
    attributes=("mode", "response-variable-name", "timeout", "ignore-error"),
    children=CHILDREN,
    notes="Children set-url, set-method, set-header, set-body build the request (mode new or copy). Only "
    "loopback URLs are called (simulated backends, the gateway itself); others fail as the emulator's limit. "
    "The response is stored as an IResponse (StatusCode, Headers, Body.As<T>()); with ignore-error a failure "
    "stores null, otherwise it goes to on-error (BackendConnectionFailure 500, Timeout 504). timeout in seconds "
    "(default 60).",
)
class SendRequest(Policy):
    """Call a service and keep the answer."""

    __slots__ = ("request", "variable", "timeout", "ignore_error")

    def __init__(self, request: OutgoingRequest, variable: str | None, timeout: IntSetting, ignore_error: bool) -> None:
        super().__init__()
        self.request = request
        self.variable = variable
        self.timeout = timeout
        self.ignore_error = ignore_error

    @classmethod
    def compile(cls, element: Any, cc: Any) -> SendRequest:
        """The outgoing request, the variable, timeout and ignore-error."""
        return cls(OutgoingRequest.compile(element, cc), cc.constant(element, "response-variable-name"),
                   cc.integer(element, "timeout", default=60, minimum=1, expressions=True),
                   cc.boolean(element, "ignore-error", False))

    async def run(self, ctx: Any, services: Any) -> None:
        """Send and store the response (or null with ignore-error)."""
        method, url, headers, body = self.request.build(ctx)
        try:
            response = await send(services, method, url, headers.items(), body,
                                  float(self.timeout.get(ctx, "send-request")), source="send-request")
        except (BackendConnectionFailure, BackendTimeout) as exc:
            ctx.note("send-request", f"{method} {url.split('?')[0]}: {exc.reason}", {"message": exc.message})
            if not self.ignore_error:
                raise
            if self.variable:
                ctx.variables[self.variable] = None
            return
        ctx.note("send-request", f"{method} {url.split('?')[0]}: {response.status}")
        if self.variable:
            ctx.variables[self.variable] = as_message(response)


def as_message(response: Any) -> Message:
    """An IResponse for expressions from a BackendResponse."""
    headers = MultiValueDict()
    for name, value in response.headers:
        headers.setdefault(name, []).append(value)
    return Message(response.status, response.reason, headers, response.body)
