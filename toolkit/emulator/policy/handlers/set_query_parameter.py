"""``<set-query-parameter>``: set, append, skip or delete a query parameter of the request."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.handlers.set_header import ACTIONS
from toolkit.emulator.policy.registry import handler
from toolkit.emulator.policy.values import text_of


@handler("set-query-parameter", sections=("inbound", "backend"), attributes=("name", "exists-action"),
         required=("name",), children=("value",),
         notes="Changes the query string the backend receives (exists-action override, skip, append, delete); "
         "several <value>s make repeated parameters.")
class SetQueryParameter(Policy):
    """Change one query parameter."""

    __slots__ = ("name", "action", "values")

    def __init__(self, name: Any, action: str, values: tuple[Any, ...]) -> None:
        super().__init__()
        self.name, self.action, self.values = name, action, values

    @classmethod
    def compile(cls, element: Any, cc: Any) -> SetQueryParameter:
        """name (expression allowed), a constant action, the values."""
        values = []
        for child in cc.child_elements(element, ("value",)):
            cc.check_attributes(child, ())
            cc.child_elements(child, (), text=True)
            values.append(cc.text_value(child))
        action = cc.choice(element, "exists-action", ACTIONS, "override")
        if action != "delete" and not values:
            raise cc.reject(element, "<set-query-parameter> needs a <value>")
        return cls(cc.value(element, "name", expect="string"), action, tuple(values))

    async def run(self, ctx: Any, services: Any) -> None:
        """Rewrite ctx.request_query."""
        name = text_of(self.name, ctx)
        pairs = parse_qsl(ctx.request_query, keep_blank_values=True)
        present = any(key == name for key, _ in pairs)
        if self.action == "skip" and present:
            return
        if self.action in ("override", "delete"):
            pairs = [(key, value) for key, value in pairs if key != name]
        if self.action != "delete":
            pairs += [(name, text_of(value, ctx)) for value in self.values]
        ctx.request_query = urlencode(pairs)
