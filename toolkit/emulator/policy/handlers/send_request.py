"""``<send-request>``: call another service and keep its response in a variable (an ``IResponse``).

Children build the request: ``<set-url>``, ``<set-method>``, ``<set-header>``, ``<set-body>``
(evaluated against the current request's context). mode="copy" starts from the current request;
in the outbound section without its body ("In outbound mode, mode=copy does not initialize the
request body", send-request-policy.md). mode and response-variable-name take policy expressions.
"""

from __future__ import annotations

from typing import Any


from toolkit.emulator.expressions.library import Message, MultiValueDict
from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.errors import BackendConnectionFailure, BackendTimeout
from toolkit.emulator.policy.headers import HeaderMap
from toolkit.emulator.policy.outbound_http import send
from toolkit.emulator.policy.registry import SECTIONS, handler
from toolkit.emulator.policy.values import ChoiceSetting, IntSetting, text_of

CHILDREN = ("set-url", "set-method", "set-header", "set-body")
MODES = ("new", "copy")


class OutgoingRequest:
    """The request a send-request (or send-one-way-request) builds: compiled from its children."""

    __slots__ = ("mode", "url", "method", "headers", "body")

    def __init__(self, mode: ChoiceSetting, url: Any, method: Any, headers: tuple[Any, ...], body: Any) -> None:
        self.mode, self.url, self.method, self.headers, self.body = mode, url, method, headers, body

    @classmethod
    def compile(cls, element: Any, cc: Any) -> OutgoingRequest:
        """mode (new | copy, or an expression) and the children; a new request needs <set-url>."""
        mode = cc.choice_setting(element, "mode", MODES, "new")
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
        # A mode expression is known only per request: a new request without <set-url> then fails when sent.
        if url is None and mode.constant == "new":
            raise cc.reject(element, f"<{element.tag}> needs <set-url> (or mode=\"copy\")")
        return cls(mode, url, method, tuple(headers), body)

    def build(self, ctx: Any, source: str) -> tuple[str, str, HeaderMap, bytes]:
        """(method, url, headers, body) for this request."""
        if self.mode.get(ctx, source) == "copy":
            # In outbound the copy starts without a body (unless <set-body> gives one), as APIM documents.
            body = b"" if ctx.section == "outbound" else ctx.request_body
            method, headers = ctx.request_method, ctx.request_headers.copy()
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
    notes="Children set-url, set-method, set-header, set-body build the request (mode new or copy, an expression "
    "allowed; copy in outbound starts with no body). Only loopback URLs are called (simulated backends, the "
    "gateway itself); others fail as the emulator's limit. "
    "The response is stored as an IResponse (StatusCode, Headers, Body.As<T>()); with ignore-error a failure "
    "stores null, otherwise it goes to on-error (BackendConnectionFailure 500, Timeout 500). timeout in seconds "
    "(default 60). response-variable-name may be an expression.",
)
class SendRequest(Policy):
    """Call a service and keep the answer."""

    __slots__ = ("request", "variable", "timeout", "ignore_error")

    def __init__(self, request: OutgoingRequest, variable: Any, timeout: IntSetting, ignore_error: bool) -> None:
        super().__init__()
        self.request = request
        self.variable = variable
        self.timeout = timeout
        self.ignore_error = ignore_error

    @classmethod
    def compile(cls, element: Any, cc: Any) -> SendRequest:
        """The outgoing request, the variable, timeout and ignore-error."""
        return cls(OutgoingRequest.compile(element, cc), cc.value(element, "response-variable-name", expect="string"),
                   cc.integer(element, "timeout", default=60, minimum=1, expressions=True),
                   cc.boolean(element, "ignore-error", False))

    async def run(self, ctx: Any, services: Any) -> None:
        """Send and store the response (or null with ignore-error)."""
        method, url, headers, body = self.request.build(ctx, "send-request")
        variable = text_of(self.variable, ctx) if self.variable is not None else ""
        try:
            response = await send(services, method, url, headers.items(), body,
                                  float(self.timeout.get(ctx, "send-request")), source="send-request")
        except (BackendConnectionFailure, BackendTimeout) as exc:
            ctx.note("send-request", f"{method} {url.split('?')[0]}: {exc.reason}", {"message": exc.message})
            if not self.ignore_error:
                raise
            if variable:
                ctx.variables[variable] = None
            return
        ctx.note("send-request", f"{method} {url.split('?')[0]}: {response.status}")
        if variable:
            ctx.variables[variable] = as_message(response)


def as_message(response: Any) -> Message:
    """An IResponse for expressions from a BackendResponse."""
    headers = MultiValueDict()
    for name, value in response.headers:
        headers.setdefault(name, []).append(value)
    return Message(response.status, response.reason, headers, response.body)
