"""Publish-time refusals shared by every element, named values, documents and scopes."""

from __future__ import annotations

import pytest
from .policy_helpers import FakeServices, api, compile_api, document, execute, rejected

from toolkit.emulator.policy import PolicyRejected, compile_policy, validate_policy


def test_unknown_element_is_refused_with_its_line() -> None:
    error = rejected("<policies>\n<inbound>\n  <frobnicate topic='t'/>\n</inbound>\n</policies>")
    assert "unknown policy element <frobnicate>" in str(error)
    assert error.line == 3
    assert str(error).startswith("line 3: ")


def test_unknown_and_missing_attributes_are_refused() -> None:
    unknown = rejected(document(backend='<forward-request timeout="5" colour="red"/>'))
    assert "<forward-request> attribute 'colour' is not supported" in str(unknown)
    missing = rejected(document(inbound='<set-variable name="x"/>'))
    assert "<set-variable> is missing the required attribute 'value'" in str(missing)


def test_every_policy_may_carry_an_id() -> None:
    policy = compile_api(document(backend='<forward-request id="fwd"/>',
                                  inbound='<base id="b"/><set-backend-service base-url="https://one.test/"/>'))
    forward = policy.sections["backend"][0]
    assert forward.policy_id == "fwd"  # what context.LastError.PolicyId reports when it fails
    assert policy.sections["inbound"][0].policy_id == "b"
    services = FakeServices()
    execute([None, policy], services)
    assert len(services.calls) == 1  # the id changes nothing about what the policy does
    # Only ``id`` is shared by every policy: a look-alike attribute is still refused.
    assert "attribute 'ident' is not supported" in str(rejected(document(backend='<forward-request ident="f"/>')))


def test_text_and_children_where_none_are_allowed_are_refused() -> None:
    assert "may not contain text" in str(rejected(document(backend="<forward-request>now</forward-request>")))
    error = rejected(document(backend="<forward-request><value>1</value></forward-request>"))
    assert "<forward-request> may not contain child elements (found <value>)" in str(error)


def test_comments_are_ignored() -> None:
    commented_out = '<set-header name="x-commented" exists-action="override"><value>1</value></set-header>'
    target = '<set-backend-service base-url="https://one.test/"/>'
    policy = compile_api(document(inbound=f"<!-- note --><base/><!-- {commented_out} -->{target}",
                                  backend="<!-- <retry count='3' interval='0'/> --><forward-request/>"))
    assert [len(policy.sections[name]) for name in ("inbound", "backend")] == [2, 1]
    services = FakeServices()
    execute([None, policy], services)
    assert len(services.calls) == 1
    assert "x-commented" not in services.calls[0]["headers"]


def test_document_structure_is_checked() -> None:
    assert "root element must be <policies>" in str(rejected("<fragment><base/></fragment>"))
    assert "root element must be <fragment>" in str(rejected("<policies/>", scope="fragment"))
    assert "appears twice" in str(rejected("<policies><inbound/><inbound/></policies>"))
    assert "<outgoing> is not allowed inside <policies>" in str(rejected("<policies><outgoing/></policies>"))
    assert "<inbound> attribute 'x'" in str(rejected('<policies><inbound x="1"/></policies>'))
    error = rejected('<policies><inbound><p:set-header xmlns:p="urn:x" name="a"/></inbound></policies>')
    assert "XML namespace" in str(error)


def test_malformed_xml_and_doctype_are_refused_with_a_line() -> None:
    error = rejected("<policies>\n<inbound>\n</policies>")
    assert error.line == 3
    doctype = rejected('<!DOCTYPE policies [<!ENTITY x "y">]>\n<policies/>')
    assert "DOCTYPE" in str(doctype)


def test_unsupported_expression_is_refused_naming_element_attribute_and_expression() -> None:
    xml = '<policies>\n<inbound>\n<set-variable name="b" value="@(context.Request.Bodyy.As&lt;string&gt;())"/>' \
          "\n</inbound>\n</policies>"
    error = rejected(xml)
    assert error.line == 3
    assert "<set-variable> attribute 'value'" in str(error)
    assert "context.Request.Bodyy" in str(error)


def test_named_values_are_substituted_in_attributes_and_text_without_injecting_xml() -> None:
    policy = api(
        inbound='<set-header name="{{header}}" exists-action="override"><value>{{value}}</value></set-header>',
        named_values={"header": "x-from-nv", "value": "<b>&amp;</b>"},
    )
    services = FakeServices()
    execute([None, policy], services, backend_url="http://backend.test")
    assert services.calls[0]["headers"]["x-from-nv"] == "<b>&amp;</b>"


def test_a_named_value_may_hold_an_expression() -> None:
    policy = api(inbound='<set-header name="x-sub" exists-action="override"><value>{{sub}}</value></set-header>',
                 named_values={"sub": "@(context.Subscription.Id)"})
    services = FakeServices()
    execute([None, policy], services, backend_url="http://backend.test")
    assert services.calls[0]["headers"]["x-sub"] == "sub-1"


def test_unknown_named_value_is_refused_with_its_name() -> None:
    error = rejected(document(inbound='<set-variable name="x" value="{{nope}}"/>'), named_values={"yes": "1"})
    assert "named value '{{nope}}', which does not exist" in str(error)


def test_validate_policy_raises_the_same_refusal_and_accepts_good_documents() -> None:
    assert validate_policy(document(inbound="<base/>"), "operation") is None
    with pytest.raises(PolicyRejected, match="unknown policy element"):
        validate_policy(document(inbound="<nope/>"), "operation")


def test_unknown_scope_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="scope"):
        compile_policy("<policies/>", "tenant")


def test_a_fragment_compiles_without_a_section_and_remembers_where_its_elements_may_go() -> None:
    fragment = compile_policy('<fragment><set-header name="a"><value>1</value></set-header>'
                              "<forward-request/></fragment>", "fragment")
    names = [spec.name for spec, _ in fragment.elements]
    assert names == ["set-header", "forward-request"]
    assert fragment.elements[1][0].sections == frozenset({"backend"})


def test_named_values_match_case_insensitively_like_the_management_plane() -> None:
    policy = api(inbound='<set-variable name="x" value="{{My-Value}}"/>', named_values={"my-value": "1"})
    assert execute([None, policy], backend_url="http://backend.test").variables["x"] == "1"


def test_the_management_plane_validator_hook_uses_the_current_state() -> None:
    from toolkit.emulator.management.hooks import PolicyRejected as PlaneRejected
    from toolkit.emulator.management.hooks import PolicyScope
    from toolkit.emulator.policy import policy_validator

    state = {"backends": ["pool"]}
    validate = policy_validator(backends=lambda: state["backends"])
    validate(document(inbound='<set-backend-service backend-id="pool"/>'), PolicyScope.API)
    state["backends"] = []
    with pytest.raises(PlaneRejected, match="backend 'pool' does not exist") as info:
        validate(document(inbound='<set-backend-service backend-id="pool"/>'), PolicyScope.OPERATION)
    assert info.value.line == 1


@pytest.mark.parametrize(("inbound", "message", "line"), [
    ("<publish-to-dapr topic='t'>x</publish-to-dapr>", "the local emulator does not support <publish-to-dapr> (APIM does)", 3),
    ("<set-body template='liquid'>x</set-body>",
     "the local emulator does not support attribute 'template' of <set-body> (APIM does)", 3),
    ("<set-variable name='v' value='@{ while (true) { } return 1; }'/>",
     "the local emulator does not support this expression (APIM does)", 3),
    ("<set-variable name='v' value='@(context.Api.Revision)'/>",
     "the local emulator does not support this expression (APIM does)", 3),
])
def test_what_apim_runs_and_the_emulator_cannot_is_refused_as_the_emulators_limit(inbound: str, message: str,
                                                                                  line: int) -> None:
    error = rejected(f"<policies>\n<inbound>\n{inbound}\n</inbound>\n</policies>")
    assert message in str(error) and error.line == line


@pytest.mark.parametrize("inbound", [
    "<frobnicate/>", "<set-variable name='v' value='@(context.Nonsense)'/>", "<set-header colour='x' name='a'/>",
])
def test_what_apim_refuses_too_is_not_called_an_emulator_limit(inbound: str) -> None:
    assert "local emulator" not in str(rejected(f"<policies><inbound>{inbound}</inbound></policies>"))


def test_an_integer_beyond_pythons_conversion_limit_is_out_of_range_not_a_crash() -> None:
    # int() refuses more than 4,300 digits with a ValueError, which escaped the compiler (`toolkit lint`'s APIM034
    # stopped with exit 70 on such a tree): it is the document's refusal.
    error = rejected(document(backend=f'<retry condition="@(true)" count="{"9" * 5001}" interval="0">'
                                      "<forward-request/></retry>"))
    assert "<retry> attribute 'count': 99999999999999999999... (5001 digits) is outside the allowed range 1-50" in str(error)
