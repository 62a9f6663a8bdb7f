"""APIM subscriptions: keys generated or given, hidden on GET, returned by listSecrets, found by the gateway view."""

from __future__ import annotations

import re

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.apimanagement import models
from toolkit.testing.management_bodies import RG, SUB, SVC, status_of

from toolkit.emulator.management import ManagementPlane


@pytest.fixture
def api(client) -> str:
    client.api.begin_create_or_update(RG, SVC, "openai", models.ApiCreateOrUpdateParameter(
        display_name="OpenAI", path="openai")).result()
    return "openai"


def _create(client, sid: str, scope: str, cls=None, **extra):
    return client.subscription.create_or_update(RG, SVC, sid, models.SubscriptionCreateParameters(
        display_name=sid, scope=scope, **extra), cls=cls)


def test_given_keys_are_returned_by_list_secrets_only(client, plane: ManagementPlane, api):
    created = _create(client, "team-a", f"/apis/{api}", primary_key="p" * 32, secondary_key="s" * 32, state="active")
    assert created.primary_key is None and created.secondary_key is None
    got = client.subscription.get(RG, SVC, "team-a")
    assert (got.primary_key, got.state, got.scope) == (None, "active", "/apis/openai")
    secrets = client.subscription.list_secrets(RG, SVC, "team-a")
    assert (secrets.primary_key, secrets.secondary_key) == ("p" * 32, "s" * 32)
    info = plane.view.subscription_for_key("s" * 32)
    assert (info.name, info.api, info.state, info.key_slot, info.active) == ("team-a", "openai", "active",
                                                                              "secondary", True)
    assert info.covers("openai") and not info.covers("other")


def test_keys_are_generated_and_the_default_state_is_submitted(client, plane: ManagementPlane, api):
    _create(client, "team-b", "/apis")
    secrets = client.subscription.list_secrets(RG, SVC, "team-b")
    assert re.fullmatch(r"[0-9a-f]{32}", secrets.primary_key)
    assert secrets.primary_key != secrets.secondary_key
    info = plane.view.subscription_for_key(secrets.primary_key)
    assert (info.api, info.state, info.active) == ("", "submitted", False)
    assert info.covers("anything")


def test_update_keeps_keys_that_are_not_sent(client, api):
    _create(client, "team-a", f"/apis/{api}", primary_key="p" * 32)
    before = client.subscription.list_secrets(RG, SVC, "team-a")
    assert _create(client, "team-a", f"/apis/{api}", state="active", cls=status_of) == 200
    after = client.subscription.list_secrets(RG, SVC, "team-a")
    assert (after.primary_key, after.secondary_key) == (before.primary_key, before.secondary_key)


def test_full_arm_scope_is_accepted_and_list_works(client, api):
    scope = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ApiManagement/service/{SVC}/apis/{api}"
    _create(client, "team-a", scope)
    _create(client, "team-b", "/apis")
    assert [s.name for s in client.subscription.list(RG, SVC)] == ["team-a", "team-b"]


def test_regenerate_primary_key_changes_it(client, plane: ManagementPlane, api):
    _create(client, "team-a", "/apis", primary_key="p" * 32)
    client.subscription.regenerate_primary_key(RG, SVC, "team-a")
    assert client.subscription.list_secrets(RG, SVC, "team-a").primary_key != "p" * 32
    assert plane.view.subscription_for_key("p" * 32) is None


def test_delete_removes_the_key(client, plane: ManagementPlane, api):
    _create(client, "team-a", "/apis", primary_key="p" * 32)
    assert client.subscription.delete(RG, SVC, "team-a", if_match="*", cls=status_of) == 200
    assert plane.view.subscription_for_key("p" * 32) is None


@pytest.mark.parametrize(("scope", "message"), [
    ("/apis/missing", "API 'missing' does not exist"),
    # valid in APIM, not run by the emulator: its limit
    ("/products/starter", "the local emulator does not support the product scope '/products/starter' (APIM does)"),
    # not a scope at all: APIM's answer (hashicorp/terraform-provider-azurerm#12829)
    ("/users/1", "Subscription scope should be one of '/apis', '/apis/{apiId}', '/products/{productId}'"),
    ("/foo", "Subscription scope should be one of '/apis', '/apis/{apiId}', '/products/{productId}'"),
    ("/products", "Subscription scope should be one of '/apis', '/apis/{apiId}', '/products/{productId}'"),
])
def test_bad_scopes_are_refused(client, api, scope, message, refusal):
    with pytest.raises(HttpResponseError) as caught:
        _create(client, "x", scope)
    assert caught.value.status_code == 400
    assert message in refusal(caught.value)


def test_a_malformed_scope_is_apims_answer_on_the_scope_field(client, api):
    with pytest.raises(HttpResponseError) as caught:
        _create(client, "x", "/foo")
    assert [(d.target, d.message) for d in caught.value.error.details] == [
        ("scope", "properties.scope: Subscription scope should be one of '/apis', '/apis/{apiId}', "
                  "'/products/{productId}'")]


def test_unknown_state_is_refused(client, api, refusal):
    with pytest.raises(HttpResponseError) as caught:
        _create(client, "x", "/apis", state="enabled")
    assert "properties.state" in refusal(caught.value)
