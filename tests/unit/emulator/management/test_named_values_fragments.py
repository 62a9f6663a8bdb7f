"""Named values and policy fragments: long-running PUTs polled by the SDK, secrets, references."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.apimanagement import models
from toolkit.testing.management_bodies import RG, SVC, status_of

from toolkit.emulator.management import ManagementPlane

FRAGMENT = (
    '<fragment>\n'
    '    <set-header name="x-frag" exists-action="override"><value>@(1 < 2 ? "a" : "b")</value></set-header>\n'
    '</fragment>'
)


def _named_value(client, name: str, value: str, *, secret: bool = False, display: str | None = None):
    return client.named_value.begin_create_or_update(RG, SVC, name, models.NamedValueCreateContract(
        display_name=display or name, value=value, secret=secret)).result()


def test_named_value_put_is_polled_to_completion(client, plane: ManagementPlane):
    plane.counters.reset()
    poller = client.named_value.begin_create_or_update(RG, SVC, "region", models.NamedValueCreateContract(
        display_name="region", value="eastus"))
    result = poller.result()
    assert poller.status() == "Succeeded"
    assert (result.name, result.value, result.provisioning_state) == ("region", "eastus", "Succeeded")
    by_method = plane.counters.snapshot()["by_kind"]["named-value"]
    assert (by_method["PUT"], by_method["GET"]) == (1, 1)  # the initial PUT said InProgress; one re-GET finished it


def test_secret_value_is_hidden_on_get_and_list_but_listed_by_list_value(client, plane: ManagementPlane):
    created = _named_value(client, "openai-key", "sk-123", secret=True)
    assert created.value is None
    assert client.named_value.get(RG, SVC, "openai-key").value is None
    assert [nv.value for nv in client.named_value.list_by_service(RG, SVC)] == [None]
    assert client.named_value.list_value(RG, SVC, "openai-key").value == "sk-123"
    assert plane.view.named_values() == {"openai-key": "sk-123"}


def test_plain_value_is_returned_on_get(client):
    _named_value(client, "region", "eastus")
    got = client.named_value.get(RG, SVC, "region")
    assert (got.value, got.secret, got.display_name) == ("eastus", False, "region")


def test_display_names_are_unique(client, refusal):
    _named_value(client, "a", "1", display="shared")
    with pytest.raises(HttpResponseError) as caught:
        _named_value(client, "b", "2", display="Shared")
    assert caught.value.status_code == 400
    assert "properties.displayName" in refusal(caught.value)


def test_a_key_vault_reference_is_refused_as_the_emulators_limit(client, refusal):
    with pytest.raises(HttpResponseError) as caught:
        client.named_value.begin_create_or_update(RG, SVC, "kv", models.NamedValueCreateContract(
            display_name="kv", secret=True, key_vault=models.KeyVaultContractCreateProperties(
                secret_identifier="https://kv.vault.azure.net/secrets/key"))).result()
    assert caught.value.status_code == 400
    assert "the local emulator does not support Key Vault named values (APIM does)" in refusal(caught.value)


def test_display_name_characters_are_checked(client, refusal):
    with pytest.raises(HttpResponseError) as caught:
        _named_value(client, "a", "1", display="has space")
    assert caught.value.status_code == 400
    assert "may contain only letters" in refusal(caught.value)


def test_policies_resolve_named_values_by_display_name_and_block_their_deletion(client, refusal):
    _named_value(client, "nv-1", "sk", secret=True, display="openai-key")
    policy = models.PolicyContract(value="<policies><inbound><set-header name='api-key'><value>{{openai-key}}"
                                         "</value></set-header></inbound></policies>", format="rawxml")
    client.policy.create_or_update(RG, SVC, "policy", policy)
    with pytest.raises(HttpResponseError) as caught:
        client.named_value.delete(RG, SVC, "nv-1", if_match="*")
    assert caught.value.status_code == 400
    assert "the global policy" in refusal(caught.value)
    with pytest.raises(HttpResponseError) as renamed:
        _named_value(client, "nv-1", "sk", secret=True, display="other-name")
    assert "would break the global policy" in refusal(renamed.value)
    with pytest.raises(HttpResponseError) as patched:  # an update is judged as the PUT of its result
        client.named_value.begin_update(RG, SVC, "nv-1", "*", models.NamedValueUpdateParameters(
            display_name="other-name")).result()
    assert "would break the global policy" in refusal(patched.value)
    client.policy.delete(RG, SVC, "policy", if_match="*")
    assert client.named_value.delete(RG, SVC, "nv-1", if_match="*", cls=status_of) == 200


def test_fragment_round_trip_in_both_formats(client, plane: ManagementPlane):
    created = client.policy_fragment.begin_create_or_update(RG, SVC, "frag", models.PolicyFragmentContract(
        value=FRAGMENT, description="adds a header", format="rawxml")).result()
    assert created.provisioning_state == "Succeeded"
    got = client.policy_fragment.get(RG, SVC, "frag", format="rawxml")
    assert (got.value, got.description, got.format) == (FRAGMENT, "adds a header", "rawxml")
    assert '@(1 &lt; 2 ? "a" : "b")' in client.policy_fragment.get(RG, SVC, "frag").value  # default format: xml
    assert [f.name for f in client.policy_fragment.list_by_service(RG, SVC)] == ["frag"]
    assert plane.view.fragment_xml("frag") == FRAGMENT


def test_include_fragment_must_resolve_and_blocks_deletion(client, refusal):
    policy = models.PolicyContract(value='<policies><inbound><include-fragment fragment-id="frag" /></inbound>'
                                         '</policies>', format="rawxml")
    with pytest.raises(HttpResponseError) as caught:
        client.policy.create_or_update(RG, SVC, "policy", policy)
    assert "Policy fragment with id 'frag' could not be found" in refusal(caught.value)
    client.policy_fragment.begin_create_or_update(RG, SVC, "frag", models.PolicyFragmentContract(
        value=FRAGMENT, format="rawxml")).result()
    client.policy.create_or_update(RG, SVC, "policy", policy)
    with pytest.raises(HttpResponseError) as refused:
        client.policy_fragment.delete(RG, SVC, "frag", if_match="*")
    assert refused.value.status_code == 400
    client.policy.delete(RG, SVC, "policy", if_match="*")
    assert client.policy_fragment.delete(RG, SVC, "frag", if_match="*", cls=status_of) == 200


def test_malformed_fragment_is_refused(client, refusal):
    with pytest.raises(HttpResponseError) as caught:
        client.policy_fragment.begin_create_or_update(RG, SVC, "frag", models.PolicyFragmentContract(
            value="<fragment><oops></fragment>", format="rawxml"))
    assert caught.value.status_code == 400
    assert refusal(caught.value).startswith("properties.value: line 1:")
