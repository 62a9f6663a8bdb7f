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


@pytest.mark.parametrize(("accept", "converted"), [("application/xml", True), ("application/json", False)])
def test_apply_and_consider_accept_header_take_expressions(accept: str, converted: bool) -> None:
    services = FakeServices(answers=[response(200, {"a": 1})])
    policy = api(outbound='<json-to-xml apply="@(&quot;content-type-json&quot;)" '
                          'consider-accept-header="@(context.Request.Headers.ContainsKey(&quot;Accept&quot;))"/>')
    ctx = execute([None, policy], services, headers=[("Accept", accept)], backend_url="http://b.test")
    assert ctx.response_body.startswith(b"<Document>") is converted


def test_an_apply_expression_with_a_bad_value_fails_the_request() -> None:
    services = FakeServices(answers=[response(200, {"a": 1})])
    ctx = execute([None, api(outbound='<json-to-xml apply="@(&quot;sometimes&quot;)"/>')], services,
                  backend_url="http://b.test")
    assert (ctx.response_status, ctx.last_error_reason) == (500, "ExpressionValueEvaluationFailure")
