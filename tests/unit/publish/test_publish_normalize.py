"""normalize: what APIM changes on its own compares equal; what a person changed does not."""

from __future__ import annotations

import pytest

from toolkit.artifacts.layout import Kind
from toolkit.publish.normalize import canonical_duration, canonical_xml, normalize, strip_server_fields

POLICY = """<policies>
    <inbound>
        <base />
        <set-backend-service backend-id="pool" />
    </inbound>
    <backend>
        <retry condition="@(context.Response.StatusCode == 429 || context.Response.StatusCode &gt;= 500)" count="2" interval="0">
            <forward-request buffer-request-body="true" />
        </retry>
    </backend>
</policies>
"""


def _backend(**properties: object) -> dict[str, object]:
    return {"properties": {"url": "https://a.example.com", "protocol": "http", **properties}}


def test_server_fields_are_dropped_and_strip_keeps_the_rest() -> None:
    live = {"properties": {"displayName": "A", "path": "a", "apiRevision": "1", "isCurrent": True,
                           "provisioningState": "Succeeded", "serviceUrl": "https://x"}}
    assert normalize(Kind.API, live) == {"displayName": "A", "path": "a", "serviceUrl": "https://x"}
    # apiRevision is declared (apiInformation.json) and sent back; "1" is the default, equal to absent
    assert strip_server_fields(Kind.API, live) == {"properties": {"displayName": "A", "path": "a", "apiRevision": "1",
                                                                   "serviceUrl": "https://x"}}
    assert normalize(Kind.API, {"properties": {**live["properties"], "apiRevision": "2"}})["apiRevision"] == "2"


def test_api_defaults_equal_absent() -> None:
    filled = {"properties": {"displayName": "A", "path": "/a/", "protocols": ["https"], "subscriptionRequired": True,
                             "subscriptionKeyParameterNames": {"header": "Ocp-Apim-Subscription-Key",
                                                               "query": "subscription-key"},
                             "authenticationSettings": {"oAuth2AuthenticationSettings": []}, "description": None}}
    assert normalize(Kind.API, filled) == normalize(Kind.API, {"properties": {"displayName": "A", "path": "a"}})
    custom = {"properties": {"displayName": "A", "path": "a", "subscriptionKeyParameterNames": {"header": "api-key",
                                                                                              "query": "subscription-key"}}}
    assert normalize(Kind.API, custom) != normalize(Kind.API, {"properties": {"displayName": "A", "path": "a"}})


def test_backend_defaults_type_and_accept_retry_after() -> None:
    rule = {"name": "r", "failureCondition": {"count": 3, "interval": "PT5M"}, "tripDuration": "PT1M"}
    sparse = _backend(circuitBreaker={"rules": [rule]})
    filled = _backend(type="single", circuitBreaker={"rules": [{**rule, "acceptRetryAfter": False}]})
    assert normalize(Kind.BACKEND, sparse) == normalize(Kind.BACKEND, filled)
    changed = _backend(circuitBreaker={"rules": [{**rule, "acceptRetryAfter": True}]})
    assert normalize(Kind.BACKEND, changed) != normalize(Kind.BACKEND, sparse)


def test_pool_member_id_forms_and_order_compare_equal() -> None:
    arm = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim/backends/"
    short = {"properties": {"type": "Pool", "pool": {"services": [
        {"id": "/backends/east", "priority": 1, "weight": 50}, {"id": "/backends/west", "priority": 2}]}}}
    full = {"properties": {"type": "Pool", "pool": {"services": [
        {"id": f"{arm}west", "priority": 2, "weight": None}, {"id": f"{arm}east", "priority": 1, "weight": 50}]}}}
    assert normalize(Kind.BACKEND, short) == normalize(Kind.BACKEND, full)
    assert normalize(Kind.BACKEND, short)["pool"]["services"] == {
        "[east]": {"id": "/backends/east", "priority": 1, "weight": 50},
        "[west]": {"id": "/backends/west", "priority": 2}}


def test_the_doubled_member_id_of_bicep_samples_names_the_last_backend() -> None:
    """'<service id>/backends/${backend.id}' (public Bicep samples; APIM accepts it) is the backend after the last /backends/."""
    from toolkit.artifacts.arm_ids import pool_member_name

    arm = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim"
    assert pool_member_name(f"{arm}/backends/{arm}/backends/backend1") == "backend1"
    assert pool_member_name(f"{arm}/backends/backend1") == "backend1"
    assert pool_member_name("/backends/backend1/") == "backend1"
    assert pool_member_name("/backends//backends/backend1") is None  # only a full service id may be doubled
    assert pool_member_name(f"{arm}/apis/backend1") is None
    doubled = {"properties": {"type": "Pool", "pool": {"services": [{"id": f"{arm}/backends/{arm}/backends/east"}]}}}
    assert normalize(Kind.BACKEND, doubled) == normalize(Kind.BACKEND, {"properties": {
        "type": "Pool", "pool": {"services": [{"id": "/backends/east"}]}}})


def test_a_subscription_key_name_left_out_is_apims_default() -> None:
    """APIM fills the header or query name a PUT leaves out; a changed name still differs."""
    header_only = {"properties": {"displayName": "A", "path": "a", "subscriptionKeyParameterNames": {"header": "api-key"}}}
    stored = {"properties": {"displayName": "A", "path": "a",
                             "subscriptionKeyParameterNames": {"header": "api-key", "query": "subscription-key"}}}
    assert normalize(Kind.API, header_only) == normalize(Kind.API, stored)
    renamed = {"properties": {"displayName": "A", "path": "a",
                              "subscriptionKeyParameterNames": {"header": "api-key", "query": "key"}}}
    assert normalize(Kind.API, renamed) != normalize(Kind.API, stored)
    assert "subscriptionKeyParameterNames" not in normalize(Kind.API, {"properties": {
        "displayName": "A", "path": "a", "subscriptionKeyParameterNames": {"query": "subscription-key"}}})


@pytest.mark.parametrize(("a", "b", "same"), [("PT5M", "PT300S", True), ("PT1H", "PT60M", True),
                                              ("PT1M", "PT2M", False), ("not-a-duration", "not-a-duration", True)])
def test_durations_compare_by_length(a: str, b: str, same: bool) -> None:
    assert (canonical_duration(a) == canonical_duration(b)) is same


def test_policy_xml_is_compared_canonically() -> None:
    reformatted = (
        '<policies><inbound><base/><set-backend-service backend-id="pool"></set-backend-service></inbound>'
        "<backend>\n\n<retry interval='0' count=\"2\" "
        'condition="@(context.Response.StatusCode == 429 || context.Response.StatusCode >= 500)">'
        '<forward-request buffer-request-body="true"/></retry></backend></policies>'
    )
    assert canonical_xml(POLICY) == canonical_xml(reformatted)
    assert canonical_xml(POLICY) != canonical_xml(POLICY.replace('count="2"', 'count="3"'))
    assert canonical_xml(POLICY) != canonical_xml(POLICY.replace("<base />", ""))
    body = {"properties": {"value": POLICY, "format": "rawxml"}}
    assert normalize(Kind.API_POLICY, body) == normalize(Kind.API_POLICY, {"properties": {"value": reformatted,
                                                                                         "format": "xml"}})


def test_text_content_whitespace_is_trimmed_but_kept() -> None:
    one = "<policies><inbound><set-header name='x'><value>  a b </value></set-header></inbound></policies>"
    two = "<policies><inbound><set-header name='x'><value>a b</value></set-header></inbound></policies>"
    three = "<policies><inbound><set-header name='x'><value>a  b</value></set-header></inbound></policies>"
    assert canonical_xml(one) == canonical_xml(two) != canonical_xml(three)


def test_unparseable_policy_falls_back_to_collapsed_text() -> None:
    assert canonical_xml("<policies> <inbound>") == canonical_xml("<policies>\n<inbound>")


def test_named_value_secret_default_and_tags_order() -> None:
    a = {"properties": {"displayName": "n", "value": "v", "secret": False, "tags": ["b", "a"]}}
    b = {"properties": {"displayName": "n", "value": "v", "tags": ["a", "b"], "provisioningState": "Succeeded"}}
    assert normalize(Kind.NAMED_VALUE, a) == normalize(Kind.NAMED_VALUE, b)


def test_an_apis_version_set_compares_by_name_whatever_instance_the_id_names() -> None:
    from toolkit.publish.version_sets import in_version_set_of

    foreign = {"properties": {"path": "p", "apiVersionSetId": "/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg/"
                                                                "providers/Microsoft.ApiManagement/service/dev/apiVersionSets/pets"}}
    local = {"properties": {"path": "p", "apiVersionSetId": "/apiVersionSets/pets"}}
    other = {"properties": {"path": "p", "apiVersionSetId": "/apiVersionSets/cats"}}
    assert normalize(Kind.API, foreign) == normalize(Kind.API, local) != normalize(Kind.API, other)
    sent = in_version_set_of(foreign, "/subscriptions/s/resourceGroups/g/providers/Microsoft.ApiManagement/service/x")
    assert sent["properties"]["apiVersionSetId"].endswith("/service/x/apiVersionSets/pets")
    assert foreign["properties"]["apiVersionSetId"].startswith("/subscriptions/{SUBSCRIPTION_ID}")  # not changed in place
    assert in_version_set_of(local, "")["properties"]["apiVersionSetId"] == "/apiVersionSets/pets"
    assert in_version_set_of({"properties": {"path": "p"}}, "x") == {"properties": {"path": "p"}}
