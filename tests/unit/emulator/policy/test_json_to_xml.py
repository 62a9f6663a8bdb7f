"""<json-to-xml>: the simple mapping of a JSON body to XML."""

from __future__ import annotations

import pytest
from .policy_helpers import FakeServices, api, assert_sections, document, execute, rejected, response


def test_sections() -> None:
    assert_sections('<json-to-xml apply="always"/>', ("inbound", "outbound", "on-error"))


@pytest.mark.parametrize(("xml", "message"), [
    ("<json-to-xml/>", "missing the required attribute 'apply'"),
    ('<json-to-xml apply="sometimes"/>', "'sometimes' is not one of"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


def test_the_response_becomes_xml_when_the_caller_accepts_it() -> None:
    services = FakeServices(answers=[response(200, {"a": 1, "b": [True, None], "c": {"d": "x"}})] * 2)
    policy = api(outbound='<json-to-xml apply="always" consider-accept-header="true"/>')
    ctx = execute([None, policy], services, headers=[("Accept", "application/xml")], backend_url="http://b.test")
    assert ctx.response_body == b"<Document><a>1</a><b>true</b><b/><c><d>x</d></c></Document>"
    assert ctx.response_headers.get("content-type") == "application/xml"
    unchanged = execute([None, policy], services, headers=[("Accept", "application/json")], backend_url="http://b.test")
    assert unchanged.response_body.startswith(b"{")
