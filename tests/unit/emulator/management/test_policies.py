"""Policies at global, API and operation scope: rawxml/xml formats, the validator hook, references."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.apimanagement import models
from lxml import etree
from toolkit.testing.management_bodies import RG, SVC, raw, single, status_of

from toolkit.emulator.management import ManagementPlane, PolicyRejected, PolicyScope

RAW = """<policies>
    <inbound>
        <base />
        <set-variable name="ok" value="@(context.Request.Headers.GetValueOrDefault("x", "") == "y" && true)" />
        <set-header name="cmp" exists-action="override"><value>@(1 < 2 ? "a" : "b")</value></set-header>
    </inbound>
    <backend><base /></backend>
    <outbound><base /></outbound>
    <on-error><base /></on-error>
</policies>"""


def _api(client, name: str = "openai", operations: tuple[str, ...] = ("chat", "op")) -> None:
    client.api.begin_create_or_update(RG, SVC, name, models.ApiCreateOrUpdateParameter(
        display_name=name, path=name, protocols=["https"])).result()
    for operation in operations:  # operation policies hang off declared operations
        client.api_operation.create_or_update(RG, SVC, name, operation, models.OperationContract(
            display_name=operation, method="POST", url_template=f"/{operation}"))


def _policy(value: str, fmt: str = "rawxml") -> models.PolicyContract:
    return models.PolicyContract(value=value, format=fmt)


def test_rawxml_round_trips_byte_for_byte(client):
    _api(client)
    assert client.api_policy.create_or_update(RG, SVC, "openai", "policy", _policy(RAW), cls=status_of) == 201
    got = client.api_policy.get(RG, SVC, "openai", "policy", format="rawxml")
    assert got.value == RAW
    assert got.format == "rawxml"
    assert got.name == "policy"
    assert got.type == "Microsoft.ApiManagement/service/apis/policies"


def test_xml_format_escapes_expressions_into_well_formed_xml(client):
    _api(client)
    client.api_policy.create_or_update(RG, SVC, "openai", "policy", _policy(RAW))
    escaped = client.api_policy.get(RG, SVC, "openai", "policy").value  # the SDK's default format is xml
    assert 'GetValueOrDefault(&quot;x&quot;, &quot;&quot;) == &quot;y&quot; &amp;&amp; true)' in escaped
    assert "@(1 &lt; 2 ? " in escaped
    etree.fromstring(escaped.encode())  # well-formed


def test_a_policy_sent_as_xml_reads_back_unescaped_as_rawxml(client):
    _api(client)
    client.api_policy.create_or_update(RG, SVC, "openai", "policy", _policy(RAW))
    escaped = client.api_policy.get(RG, SVC, "openai", "policy", format="xml").value
    client.api_policy.create_or_update(RG, SVC, "openai", "policy", _policy(escaped, "xml"))
    assert client.api_policy.get(RG, SVC, "openai", "policy", format="rawxml").value == RAW


def test_api_policy_needs_an_existing_api(client):
    with pytest.raises(ResourceNotFoundError):
        client.api_policy.create_or_update(RG, SVC, "nope", "policy", _policy(RAW))


def test_operation_policy_create_get_list_delete(client, plane: ManagementPlane):
    _api(client)
    client.api_operation_policy.create_or_update(RG, SVC, "openai", "chat", "policy", _policy(RAW))
    assert client.api_operation_policy.get(RG, SVC, "openai", "chat", "policy", format="rawxml").value == RAW
    listed = client.api_operation_policy.list_by_operation(RG, SVC, "openai", "chat").value
    assert [p.name for p in listed] == ["policy"]
    assert plane.view.policy_xml(PolicyScope.OPERATION, "openai", "chat") == RAW
    assert client.api_operation_policy.delete(RG, SVC, "openai", "chat", "policy", if_match="*", cls=status_of) == 200
    assert plane.view.policy_xml(PolicyScope.OPERATION, "openai", "chat") is None


def test_global_policy_create_get_list_delete(client, plane: ManagementPlane):
    client.policy.create_or_update(RG, SVC, "policy", _policy(RAW))
    assert client.policy.get(RG, SVC, "policy", format="rawxml").value == RAW
    assert [p.name for p in client.policy.list_by_service(RG, SVC)] == ["policy"]
    assert plane.view.policy_xml(PolicyScope.GLOBAL) == RAW
    client.policy.delete(RG, SVC, "policy", if_match="*")
    assert list(client.policy.list_by_service(RG, SVC)) == []
    with pytest.raises(ResourceNotFoundError) as missing:
        client.policy.get(RG, SVC, "policy", format="rawxml")
    assert missing.value.error.message == "Policy 'policy' not found."  # its ARM name, at every scope


def test_api_policy_list_and_delete(client):
    _api(client)
    assert client.api_policy.list_by_api(RG, SVC, "openai").value == []
    client.api_policy.create_or_update(RG, SVC, "openai", "policy", _policy(RAW))
    assert [p.name for p in client.api_policy.list_by_api(RG, SVC, "openai").value] == ["policy"]
    assert client.api_policy.delete(RG, SVC, "openai", "policy", if_match="*", cls=status_of) == 200
    assert client.api_policy.delete(RG, SVC, "openai", "policy", if_match="*", cls=status_of) == 204


def test_deleting_an_api_removes_its_policies(client, plane: ManagementPlane):
    _api(client)
    client.api_policy.create_or_update(RG, SVC, "openai", "policy", _policy(RAW))
    client.api_operation_policy.create_or_update(RG, SVC, "openai", "chat", "policy", _policy(RAW))
    client.api.begin_delete(RG, SVC, "openai", if_match="*").result()
    assert plane.view.policy_xml(PolicyScope.API, "openai") is None
    assert plane.view.operation_policies("openai") == {}


def test_malformed_xml_is_refused_with_the_line(client, refusal):
    _api(client)
    with pytest.raises(HttpResponseError) as caught:
        client.api_policy.create_or_update(RG, SVC, "openai", "policy", _policy("<policies>\n<inbound>\n</policies>"))
    assert caught.value.status_code == 400
    assert caught.value.error.code == "ValidationError"
    assert refusal(caught.value).startswith("properties.value: line 3:")


def test_the_injected_validator_sees_raw_xml_and_the_scope(serve, refusal):
    seen: list[tuple[str, PolicyScope]] = []

    def validator(xml: str, scope: PolicyScope) -> None:
        seen.append((xml, scope))
        if "<unknown-element" in xml:
            raise PolicyRejected("element 'unknown-element' is not supported", 4)

    _, client = serve(ManagementPlane(policy_validator=validator))
    _api(client)
    client.policy.create_or_update(RG, SVC, "policy", _policy(RAW))
    client.api_policy.create_or_update(RG, SVC, "openai", "policy", _policy(RAW))
    client.api_operation_policy.create_or_update(RG, SVC, "openai", "op", "policy", _policy(RAW))
    client.policy_fragment.begin_create_or_update(RG, SVC, "frag", models.PolicyFragmentContract(
        value="<fragment><base /></fragment>", format="rawxml")).result()
    assert [scope for _, scope in seen] == [PolicyScope.GLOBAL, PolicyScope.API, PolicyScope.OPERATION,
                                            PolicyScope.FRAGMENT]
    assert seen[0][0] == RAW
    with pytest.raises(HttpResponseError) as caught:
        client.policy.create_or_update(RG, SVC, "policy", _policy("<policies><unknown-element /></policies>"))
    assert caught.value.status_code == 400
    assert refusal(caught.value) == "properties.value: line 4: element 'unknown-element' is not supported"


def test_named_value_references_must_resolve(client, refusal):
    _api(client)
    policy = _policy("<policies>\n<inbound>\n<set-header name='k'><value>{{openai-key}}</value></set-header>"
                     "</inbound></policies>")
    with pytest.raises(HttpResponseError) as caught:
        client.api_policy.create_or_update(RG, SVC, "openai", "policy", policy)
    assert caught.value.status_code == 400
    assert "line 3: named value '{{openai-key}}' does not exist" in refusal(caught.value)
    client.named_value.begin_create_or_update(RG, SVC, "nv1", models.NamedValueCreateContract(
        display_name="openai-key", value="k", secret=True)).result()
    assert client.api_policy.create_or_update(RG, SVC, "openai", "policy", policy, cls=status_of) == 201


def test_set_backend_service_must_name_an_existing_backend(client, refusal):
    _api(client)
    policy = _policy('<policies><inbound><set-backend-service backend-id="pool" /></inbound></policies>')
    with pytest.raises(HttpResponseError) as caught:
        client.api_policy.create_or_update(RG, SVC, "openai", "policy", policy)
    assert "Backend with id 'pool' could not be found" in refusal(caught.value)
    client.backend.create_or_update(RG, SVC, "pool", raw(single()))
    client.api_policy.create_or_update(RG, SVC, "openai", "policy", policy)
    with pytest.raises(HttpResponseError) as refused:
        client.backend.delete(RG, SVC, "pool", if_match="*")
    assert refused.value.status_code == 400
    assert "the policy of API 'openai'" in refusal(refused.value)


def test_expression_backend_ids_are_not_checked(client):
    _api(client)
    policy = _policy('<policies><inbound><set-backend-service backend-id="@("b" + "1")" /></inbound></policies>')
    assert client.api_policy.create_or_update(RG, SVC, "openai", "policy", policy, cls=status_of) == 201


def test_link_formats_are_refused(client, refusal):
    _api(client)
    with pytest.raises(HttpResponseError) as caught:
        client.api_policy.create_or_update(RG, SVC, "openai", "policy", _policy("https://x.example/p.xml", "xml-link"))
    assert caught.value.status_code == 400
    assert "properties.format" in refusal(caught.value)
