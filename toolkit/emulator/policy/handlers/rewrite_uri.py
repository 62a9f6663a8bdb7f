"""``<rewrite-uri>``: change the path (and query) the backend receives."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.handlers.set_query_parameter import query_pairs
from toolkit.emulator.policy.registry import handler
from toolkit.emulator.policy.values import text_of

_PARAMETER = re.compile(r"\{([^{}]+)\}")


@handler("rewrite-uri", sections=("inbound",), attributes=("template", "copy-unmatched-params"),
         required=("template",),
         notes="template is the backend path after the API's service URL (expressions allowed); {name} takes the "
         "operation's matched parameter or a query parameter of that name (used parameters leave the query); "
         "copy-unmatched-params (default true) keeps the other query parameters, as received, except those "
         "the operation's URL template names.")
class RewriteUri(Policy):
    """Rewrite the backend URL's path."""

    __slots__ = ("template", "copy_unmatched")

    def __init__(self, template: Any, copy_unmatched: bool) -> None:
        super().__init__()
        self.template, self.copy_unmatched = template, copy_unmatched

    @classmethod
    def compile(cls, element: Any, cc: Any) -> RewriteUri:
        """The template and the switch."""
        template = cc.value(element, "template", expect="string")
        if not template.is_expression and not template.source.strip():
            raise cc.reject(element, "<rewrite-uri> attribute 'template' is empty")
        return cls(template, cc.boolean(element, "copy-unmatched-params", True))

    async def run(self, ctx: Any, services: Any) -> None:
        """Fill the template and replace the path suffix and query."""
        template = text_of(self.template, ctx).strip()
        query = dict(parse_qsl(ctx.request_query, keep_blank_values=True))
        # Matched: the names the template uses and the query parameters of the operation's URL template
        # (docs: /get?a=b&c=d, operation /get?a={b}, template /put → /put?c=d).
        used = {name for name, _ in ctx.operation_query}

        def fill(match: re.Match[str]) -> str:
            name = match.group(1).lstrip("*")
            used.add(name)
            return str(ctx.matched_parameters.get(name, query.get(name, "")))

        target = urlsplit(_PARAMETER.sub(fill, template))
        parts = [urlencode(parse_qsl(target.query, keep_blank_values=True))] if target.query else []
        if self.copy_unmatched:
            parts += [raw for name, raw in query_pairs(ctx.request_query) if name not in used]
        ctx.path_suffix = "/" + target.path.lstrip("/") if target.path else ""
        ctx.request_query = "&".join(filter(None, parts))
        ctx.note("rewrite-uri", f"backend path {ctx.path_suffix}")
