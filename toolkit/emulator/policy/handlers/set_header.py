"""``<set-header>``: set, append, skip or delete a request or response header."""

from __future__ import annotations

import re
from typing import Any

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.errors import PolicyError
from toolkit.emulator.policy.headers import breaks_header_line
from toolkit.emulator.policy.registry import SECTIONS, handler
from toolkit.emulator.policy.values import text_of

ACTIONS = ("override", "skip", "append", "delete")
# set-header docs: these cannot be modified or deleted.
PROTECTED = frozenset({"connection", "content-length", "keep-alive", "transfer-encoding"})
RESPONSE_SECTIONS = frozenset({"outbound", "on-error"})
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


@handler(
    "set-header",
    sections=SECTIONS,
    attributes=("name", "exists-action"),
    required=("name",),
    children=("value",),
    notes="Request headers in inbound/backend, response headers in outbound/on-error and inside "
    "return-response. Several <value>s are comma-joined, except headers APIM keeps apart (Set-Cookie, "
    "Retry-After, ...). Connection, Content-Length, Keep-Alive and Transfer-Encoding are refused.",
)
class SetHeader(Policy):
    """Change one header."""

    __slots__ = ("name", "action", "values", "response")

    def __init__(self, name: Any, action: Any, values: tuple[Any, ...], response: bool) -> None:
        super().__init__()
        self.name = name
        self.action = action
        self.values = values
        self.response = response

    @classmethod
    def compile(cls, element: Any, cc: Any) -> SetHeader:
        """Check a constant name and action; compile each <value>."""
        name = cc.value(element, "name", expect="string")
        if not name.is_expression:
            problem = _name_problem(name.source)
            if problem:
                raise cc.reject(element, f"<set-header> attribute 'name': {problem}")
        action = cc.value(element, "exists-action", expect="string")
        if action is not None and not action.is_expression:
            action = cc.choice(element, "exists-action", ACTIONS)
        values = []
        for child in cc.child_elements(element, ("value",)):
            cc.check_attributes(child, ())
            cc.child_elements(child, (), text=True)
            values.append(cc.text_value(child))
        return cls(name, action or "override", tuple(values), cc.response_target)

    async def run(self, ctx: Any, services: Any) -> None:
        """Apply the action to the request or the response headers."""
        if self.response or ctx.section in RESPONSE_SECTIONS:
            ctx.ensure_response()
            self.apply(ctx.response_headers, ctx)
        else:
            self.apply(ctx.request_headers, ctx)

    def apply(self, headers: Any, ctx: Any) -> None:
        """Apply the action to ``headers`` (a HeaderMap), evaluating against ``ctx``."""
        name = text_of(self.name, ctx)
        action = self.action if type(self.action) is str else text_of(self.action, ctx).lower()
        if self.name.is_expression or type(self.action) is not str:
            _check_dynamic(name, action)
        if action == "delete":
            headers.remove(name)
            return
        if action == "skip" and name in headers:
            return
        values = [text_of(value, ctx) for value in self.values] or [""]
        for value in values:
            if breaks_header_line(value):
                # A value from a named value or an expression (a decoded query parameter, say) with a line break
                # would split the header into others of its author's choosing.
                raise PolicyError(f"set-header: the value of header {name!r} holds a line break (CR or LF) or NUL, "
                                  "which a header value may not (RFC 9110, 5.5).", source="set-header",
                                  reason="InvalidHeader")
        if action == "append":
            headers.append(name, values)
        else:
            headers.set(name, values)


def _check_dynamic(name: str, action: str) -> None:
    """Checks that expressions could not pass at publish time."""
    problem = _name_problem(name)
    if problem is None and action not in ACTIONS:
        problem = f"exists-action {action!r} is not one of {', '.join(ACTIONS)}"
    if problem:
        raise PolicyError(f"set-header: {problem}.", source="set-header", reason="InvalidHeader")


def _name_problem(name: str) -> str | None:
    if not _TOKEN.match(name):
        return f"{name!r} is not a valid header name"
    if name.lower() in PROTECTED:
        return f"header {name!r} cannot be modified or deleted"
    return None
