"""``<find-and-replace>``: replace text in the request body (inbound, backend) or the response body."""

from __future__ import annotations

from typing import Any

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.registry import SECTIONS, handler
from toolkit.emulator.policy.values import text_of


@handler("find-and-replace", sections=SECTIONS, attributes=("from", "to"), required=("from", "to"),
         notes="Every occurrence of from (ordinal, expressions allowed) becomes to; the request body in "
         "inbound/backend, the response body in outbound/on-error.")
class FindAndReplace(Policy):
    """Body text substitution."""

    __slots__ = ("find", "replace")

    def __init__(self, find: Any, replace: Any) -> None:
        super().__init__()
        self.find, self.replace = find, replace

    @classmethod
    def compile(cls, element: Any, cc: Any) -> FindAndReplace:
        """from must not be empty."""
        find = cc.value(element, "from", expect="string")
        if not find.is_expression and find.source == "":
            raise cc.reject(element, "<find-and-replace> attribute 'from' is empty")
        return cls(find, cc.value(element, "to", expect="string"))

    async def run(self, ctx: Any, services: Any) -> None:
        """Replace in the current body."""
        find, replace = text_of(self.find, ctx), text_of(self.replace, ctx)
        if not find:
            return
        if ctx.section in ("outbound", "on-error"):
            if ctx.response_status is not None and ctx.response_body:
                ctx.set_response_body(ctx.response_body.decode("utf-8", "replace").replace(find, replace).encode())
        elif ctx.request_body:
            ctx.set_request_body(ctx.request_body.decode("utf-8", "replace").replace(find, replace).encode())
