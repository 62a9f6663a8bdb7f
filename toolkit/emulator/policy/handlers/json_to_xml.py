"""``<json-to-xml>``: convert a JSON body to XML (the simple, cheap mapping)."""

from __future__ import annotations

import json
import re
from typing import Any

from lxml import etree

from toolkit.emulator.policy.body_conversion import convert_body
from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.registry import handler
from toolkit.emulator.policy.values import ChoiceSetting, truth

_NAME = re.compile(r"[^A-Za-z0-9_.-]")


def _build(parent: Any, name: str, value: Any) -> None:
    tag = _NAME.sub("_", name) or "_"
    if tag[0].isdigit() or tag[0] in "-.":
        tag = "_" + tag
    if isinstance(value, list):
        for item in value:
            _build(parent, name, item)
        return
    element = etree.SubElement(parent, tag)
    if isinstance(value, dict):
        for key, item in value.items():
            _build(element, key, item)
    elif value is not None:
        element.text = json.dumps(value) if isinstance(value, bool) else str(value)


def json_to_xml(body: bytes) -> bytes | None:
    """XML for a JSON body (root <Document>), or None when the body is not JSON."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    root = etree.Element("Document")
    if isinstance(data, dict):
        for key, value in data.items():
            _build(root, key, value)
    else:
        _build(root, "Array" if isinstance(data, list) else "Value", data)
    return etree.tostring(root, xml_declaration=False, encoding="utf-8")


@handler("json-to-xml", sections=("inbound", "outbound", "on-error"),
         attributes=("apply", "consider-accept-header", "parse-date", "namespace-separator", "namespace-prefix",
                     "attribute-block-name"),
         required=("apply",),
         notes="apply always or content-type-json; consider-accept-header (default true) converts only when the "
         "caller accepts application/xml; both take expressions. Root <Document>, arrays as repeated elements; "
         "namespace and attribute options are accepted and not applied (the emulator's simple mapping).")
class JsonToXml(Policy):
    """JSON body → XML."""

    __slots__ = ("apply", "accept")

    def __init__(self, apply: ChoiceSetting, accept: Any) -> None:
        super().__init__()
        self.apply, self.accept = apply, accept

    @classmethod
    def compile(cls, element: Any, cc: Any) -> JsonToXml:
        """apply and consider-accept-header (expressions allowed)."""
        apply = cc.choice_setting(element, "apply", ("always", "content-type-json"))
        cc.boolean(element, "parse-date", True)
        return cls(apply, cc.flag(element, "consider-accept-header", True))

    async def run(self, ctx: Any, services: Any) -> None:
        """Convert the request (inbound) or response body."""
        always = self.apply.get(ctx, "json-to-xml") == "always"
        convert_body(ctx, json_to_xml, content_word=None if always else "json",
                     accept_word="xml" if truth(self.accept, ctx) else None)
