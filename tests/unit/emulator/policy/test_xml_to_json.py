"""<xml-to-json>: the simple mapping of an XML body to JSON."""

from __future__ import annotations

import json

import pytest
from .policy_helpers import FakeServices, api, assert_sections, document, execute, rejected

from toolkit.emulator.policy import BackendResponse


def test_sections() -> None:
    assert_sections('<xml-to-json kind="direct" apply="always"/>', ("inbound", "outbound", "on-error"))


@pytest.mark.parametrize(("xml", "message"), [
    ('<xml-to-json apply="always"/>', "missing the required attribute 'kind'"),
    ('<xml-to-json kind="pretty" apply="always"/>', "'pretty' is not one of"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


def test_the_response_becomes_json() -> None:
    xml = b'<r id="7"><a>1</a><a>2</a><b>x</b></r>'
    services = FakeServices(answers=[BackendResponse(200, "OK", [("content-type", "application/xml")], xml)])
    policy = api(outbound='<xml-to-json kind="javascript-friendly" apply="content-type-xml" '
                          'consider-accept-header="false"/>')
    ctx = execute([None, policy], services, backend_url="http://b.test")
    assert json.loads(ctx.response_body) == {"r": {"@id": "7", "a": ["1", "2"], "b": "x"}}


def test_entities_are_not_expanded() -> None:
    hostile = b'<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><r>&e;</r>'
    services = FakeServices(answers=[BackendResponse(200, "OK", [("content-type", "application/xml")], hostile)])
    ctx = execute([None, api(outbound='<xml-to-json kind="direct" apply="always" consider-accept-header="false"/>')],
                  services, backend_url="http://b.test")
    assert b"root:" not in ctx.response_body


def test_every_attribute_takes_expressions() -> None:
    answer = BackendResponse(200, "OK", [("content-type", "application/xml")], b"<r><a>1</a></r>")
    services = FakeServices(answers=[answer])
    policy = api(outbound='<xml-to-json kind="@(&quot;direct&quot;)" apply="@(&quot;always&quot;)" '
                          'consider-accept-header="@(false)" always-array-child-elements="@(false)"/>')
    ctx = execute([None, policy], services, backend_url="http://b.test")
    assert json.loads(ctx.response_body) == {"r": {"a": "1"}}


@pytest.mark.parametrize("attributes", ['kind="@(&quot;pretty&quot;)" apply="always"',
                                        'kind="direct" apply="@(&quot;content-type-json&quot;)"'])
def test_an_expression_with_a_bad_value_fails_the_request(attributes: str) -> None:
    services = FakeServices(answers=[BackendResponse(200, "OK", [("content-type", "application/xml")], b"<r/>")])
    ctx = execute([None, api(outbound=f"<xml-to-json {attributes}/>")], services, backend_url="http://b.test")
    assert (ctx.response_status, ctx.last_error_reason) == (500, "ExpressionValueEvaluationFailure")
