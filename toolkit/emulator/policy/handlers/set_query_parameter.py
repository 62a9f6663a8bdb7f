"""``<set-query-parameter>``: set, append, skip or delete a query parameter of the request."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus, urlencode

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.errors import ExpressionFailure
from toolkit.emulator.policy.handlers.set_header import ACTIONS
from toolkit.emulator.policy.registry import handler
from toolkit.emulator.policy.values import ChoiceSetting, text_of


@handler("set-query-parameter", sections=("inbound", "backend"), attributes=("name", "exists-action"),
         required=("name",), children=("value",),
         notes="Changes the query string the backend receives (exists-action override, skip, append, delete; "
         "expressions allowed); several <value>s make repeated parameters. The other parameters go on as received.")
class SetQueryParameter(Policy):
    """Change one query parameter."""

    __slots__ = ("name", "action", "values")

    def __init__(self, name: Any, action: ChoiceSetting, values: tuple[Any, ...]) -> None:
        super().__init__()
        self.name, self.action, self.values = name, action, values

    @classmethod
    def compile(cls, element: Any, cc: Any) -> SetQueryParameter:
        """name and exists-action (expressions allowed), the values."""
        values = []
        for child in cc.child_elements(element, ("value",)):
            cc.check_attributes(child, ())
            cc.child_elements(child, (), text=True)
            values.append(cc.text_value(child))
        action = cc.choice_setting(element, "exists-action", ACTIONS, "override")
        if action.constant not in (None, "delete") and not values:
            raise cc.reject(element, "<set-query-parameter> needs a <value>")
        return cls(cc.value(element, "name", expect="string"), action, tuple(values))

    async def run(self, ctx: Any, services: Any) -> None:
        """Rewrite ctx.request_query; the pairs it does not touch stay as they were sent."""
        name = text_of(self.name, ctx)
        action = self.action.get(ctx, "set-query-parameter")
        if action != "delete" and not self.values:
            raise ExpressionFailure(f"{self.action.where} evaluated to {action!r}, which needs a <value>.",
                                    source="set-query-parameter")
        pairs = query_pairs(ctx.request_query)
        if action == "skip" and any(key == name for key, _ in pairs):
            return
        kept = [raw for key, raw in pairs if key != name] if action in ("override", "delete") \
            else [raw for _, raw in pairs]
        if action != "delete":
            kept.append(urlencode([(name, text_of(value, ctx)) for value in self.values]))
        ctx.request_query = "&".join(kept)


def query_pairs(query: str) -> list[tuple[str, str]]:
    """A query string's pairs as (decoded name, the pair as received), so untouched pairs go on byte for byte."""
    return [(unquote_plus(raw.partition("=")[0]), raw) for raw in query.split("&") if raw]
