"""``<xml-to-json>``: convert an XML body to JSON (the simple, cheap mapping)."""

from __future__ import annotations

import json
from typing import Any

from lxml import etree

from toolkit.emulator.policy.body_conversion import convert_body
from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.registry import handler
from toolkit.emulator.policy.values import ChoiceSetting, truth

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _value(element: Any) -> Any:
    children = [c for c in element if isinstance(c.tag, str)]
    if not children and not element.attrib:
        return element.text
    out: dict[str, Any] = {f"@{k}": v for k, v in element.attrib.items()}
    for child in children:
        name = etree.QName(child).localname
        value = _value(child)
        if name in out:
            out[name] = out[name] if isinstance(out[name], list) else [out[name]]
            out[name].append(value)
        else:
            out[name] = value
    if (element.text or "").strip():
        out["#text"] = element.text.strip()
    return out


def xml_to_json(body: bytes) -> bytes | None:
    """JSON for an XML body ({root: ...}), or None when it is not XML."""
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError:
        return None
    return json.dumps({etree.QName(root).localname: _value(root)}).encode()


@handler("xml-to-json", sections=("inbound", "outbound", "on-error"),
         attributes=("kind", "apply", "consider-accept-header", "always-array-child-elements"),
         required=("kind", "apply"),
         notes="apply always or content-type-xml; consider-accept-header (default true) converts only when the "
         "caller accepts application/json. Elements become properties, repeated ones arrays, attributes "
         "@name; kind javascript-friendly and direct map the same way here (the emulator's simple mapping). "
         "Every attribute takes expressions.")
class XmlToJson(Policy):
    """XML body → JSON."""

    __slots__ = ("kind", "apply", "accept", "always_array")

    def __init__(self, kind: ChoiceSetting, apply: ChoiceSetting, accept: Any, always_array: Any) -> None:
        super().__init__()
        self.kind, self.apply, self.accept, self.always_array = kind, apply, accept, always_array

    @classmethod
    def compile(cls, element: Any, cc: Any) -> XmlToJson:
        """kind, apply, consider-accept-header and always-array-child-elements (expressions allowed)."""
        kind = cc.choice_setting(element, "kind", ("javascript-friendly", "direct"))
        apply = cc.choice_setting(element, "apply", ("always", "content-type-xml"))
        return cls(kind, apply, cc.flag(element, "consider-accept-header", True),
                   cc.flag(element, "always-array-child-elements", False))

    async def run(self, ctx: Any, services: Any) -> None:
        """Convert the request (inbound) or response body."""
        self.kind.get(ctx, "xml-to-json")  # kind and always-array-child-elements: evaluated, not applied
        truth(self.always_array, ctx)
        always = self.apply.get(ctx, "xml-to-json") == "always"
        convert_body(ctx, xml_to_json, content_word=None if always else "xml",
                     accept_word="json" if truth(self.accept, ctx) else None)
