"""PATCH (the SDK's ``update`` calls) of backends, named values, subscriptions, API version sets, APIs and operations:
a JSON merge patch onto the stored resource, validated as the PUT of the result would be. Real SDK, real emulator."""

from __future__ import annotations

import ssl
from typing import Any

import httpx
import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.apimanagement.models import (ApiUpdateContract, ApiVersionSetContract, ApiVersionSetUpdateParameters,
                                             BackendCredentialsContract, BackendUpdateParameters,
                                             NamedValueCreateContract, NamedValueUpdateParameters, OperationUpdateContract,
                                             SubscriptionCreateParameters, SubscriptionUpdateParameters)

from emulator_helpers import CHAT_PATH, publish_chat_api

from toolkit.emulator.runtime import Emulator
from toolkit.testing.management_bodies import breaker, raw, single, with_etag


def _where(emulator: Emulator) -> tuple[str, str]:
    return emulator.resource_group, emulator.service


def test_a_backend_update_changes_what_it_names_and_keeps_the_rest(emulator: Emulator, sdk: Any) -> None:
    sdk.backend.create_or_update(*_where(emulator), "east", raw(single(
        circuitBreaker=breaker(), credentials={"header": {"api-key": ["k1"]}}, description="first")))
    updated = sdk.backend.update(*_where(emulator), "east", "*", BackendUpdateParameters(
        url="https://west.example.com/openai", credentials=BackendCredentialsContract(header={"api-key": ["k2"]})))
    assert updated.url == "https://west.example.com/openai"
    got = sdk.backend.get(*_where(emulator), "east")
    assert (got.url, got.description, got.credentials.header) == ("https://west.example.com/openai", "first",
                                                                   {"api-key": ["k2"]})
    assert got.circuit_breaker.rules[0].name == "breaker"  # untouched members stay


def test_an_update_that_makes_the_resource_invalid_is_refused_and_changes_nothing(emulator: Emulator,
                                                                                    sdk: Any) -> None:
    sdk.backend.create_or_update(*_where(emulator), "keep", raw(single()))
    with pytest.raises(HttpResponseError) as refused:
        sdk.backend.update(*_where(emulator), "keep", "*", raw({"properties": {"protocol": "ftp"}}))
    assert refused.value.status_code == 400
    assert sdk.backend.get(*_where(emulator), "keep").protocol == "http"


def test_an_update_honours_if_match_and_needs_the_resource(emulator: Emulator, sdk: Any) -> None:
    _, etag = sdk.backend.create_or_update(*_where(emulator), "tagged", raw(single()), cls=with_etag)
    with pytest.raises(HttpResponseError) as stale:
        sdk.backend.update(*_where(emulator), "tagged", '"stale"', BackendUpdateParameters(description="x"))
    assert stale.value.status_code == 412
    assert sdk.backend.update(*_where(emulator), "tagged", etag, BackendUpdateParameters(description="y")) \
        .description == "y"
    with pytest.raises(ResourceNotFoundError):
        sdk.backend.update(*_where(emulator), "ghost", "*", BackendUpdateParameters(description="x"))


def test_a_null_member_removes_it(emulator: Emulator, sdk: Any) -> None:
    sdk.backend.create_or_update(*_where(emulator), "nulled", raw(single(description="gone soon")))
    sdk.backend.update(*_where(emulator), "nulled", "*", raw({"properties": {"description": None}}))
    assert sdk.backend.get(*_where(emulator), "nulled").description is None


def test_a_secret_named_value_update_keeps_it_secret_and_the_gateway_reads_the_new_value(emulator: Emulator,
                                                                                      sdk: Any) -> None:
    sdk.named_value.begin_create_or_update(*_where(emulator), "key", NamedValueCreateContract(
        display_name="aoai-key", value="old", secret=True)).result()
    updated = sdk.named_value.begin_update(*_where(emulator), "key", "*",
                                           NamedValueUpdateParameters(value="new")).result()
    assert (updated.display_name, updated.secret, updated.value) == ("aoai-key", True, None)  # never shown
    assert sdk.named_value.list_value(*_where(emulator), "key").value == "new"


def test_kinds_without_an_update_call_answer_501(emulator: Emulator) -> None:  # policies and fragments
    url = (f"{emulator.management_url}/subscriptions/{emulator.subscription_id}/resourceGroups/"
           f"{emulator.resource_group}/providers/Microsoft.ApiManagement/service/{emulator.service}/policyFragments/x")
    answer = httpx.patch(url, params={"api-version": "2024-05-01"}, json={"properties": {}},
                         headers={"Authorization": f"Bearer {emulator.control_token}"}, verify=ssl.create_default_context(cafile=emulator.ca_bundle_path))
    assert answer.status_code == 501 and answer.json()["error"]["code"] == "NotImplemented"


def test_a_subscription_suspended_by_an_update_is_refused_by_the_gateway_until_it_is_active_again(
        emulator: Emulator, sdk: Any) -> None:
    publish_chat_api(emulator, "<policies><inbound><base /><set-backend-service backend-id=\"aoai\" /></inbound>"
                     "<backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>",
                     {"aoai": "https://aoai.openai.azure.com/openai"}).close()
    sdk.subscription.create_or_update(*_where(emulator), "team", SubscriptionCreateParameters(
        display_name="team", scope="/apis/chat", state="active", primary_key="team-key-1"))

    def status() -> int:
        return httpx.post(emulator.gateway_url + CHAT_PATH, json={"messages": [{"role": "user", "content": "hi"}]},
                          headers={"Ocp-Apim-Subscription-Key": "team-key-1"}, timeout=30.0).status_code

    assert status() == 200
    suspended = sdk.subscription.update(*_where(emulator), "team", "*", SubscriptionUpdateParameters(state="suspended"))
    assert (suspended.state, suspended.display_name, suspended.scope.endswith("/apis/chat")) == ("suspended", "team", True)
    assert status() == 401
    sdk.subscription.update(*_where(emulator), "team", "*", SubscriptionUpdateParameters(state="active"))
    assert status() == 200  # the same key: an update keeps the keys it does not name


def test_a_version_set_update_changes_its_description(emulator: Emulator, sdk: Any) -> None:
    sdk.api_version_set.create_or_update(*_where(emulator), "aoai", ApiVersionSetContract(
        display_name="Azure OpenAI", versioning_scheme="Query", version_query_name="api-version"))
    updated = sdk.api_version_set.update(*_where(emulator), "aoai", "*",
                                         ApiVersionSetUpdateParameters(description="by date"))
    assert (updated.description, updated.versioning_scheme, updated.version_query_name) == \
        ("by date", "Query", "api-version")


def test_an_api_update_lifts_its_subscription_requirement_and_an_operation_update_renames_it(
        emulator: Emulator, sdk: Any) -> None:
    publish_chat_api(emulator, "<policies><inbound><base /><set-backend-service backend-id=\"aoai\" /></inbound>"
                     "<backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>",
                     {"aoai": "https://aoai.openai.azure.com/openai"}).close()

    def status() -> int:
        return httpx.post(emulator.gateway_url + CHAT_PATH, json={"messages": [{"role": "user", "content": "hi"}]},
                          timeout=30.0).status_code

    assert status() == 401  # no subscription key
    updated = sdk.api.update(*_where(emulator), "chat", "*", ApiUpdateContract(subscription_required=False,
                                                                             description="open"))
    assert (updated.subscription_required, updated.description, updated.path) == (False, "open", "openai")
    assert status() == 200
    assert [o.name for o in sdk.api_operation.list_by_api(*_where(emulator), "chat")] == ["all-get", "all-post"]
    renamed = sdk.api_operation.update(*_where(emulator), "chat", "all-post", "*",
                                       OperationUpdateContract(display_name="chat completions"))
    assert (renamed.display_name, renamed.method, renamed.url_template) == ("chat completions", "POST", "/*")
    assert status() == 200
