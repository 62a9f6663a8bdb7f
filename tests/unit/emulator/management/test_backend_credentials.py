"""Backend credentials at PUT: header/query/authorization accepted, named values must exist, certificates refused."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.apimanagement import models
from toolkit.testing.management_bodies import RG, SVC, raw, single

from toolkit.emulator.gateway.backend_credentials import credential_pairs, resolve_named_values


def _named_value(client, name="aoai-key", value="secret-key"):
    client.named_value.begin_create_or_update(RG, SVC, name, models.NamedValueCreateContract(
        display_name=name, value=value, secret=True), polling_interval=0).result()


def test_credentials_round_trip(client):
    _named_value(client)
    credentials = {"header": {"api-key": ["{{aoai-key}}"]}, "query": {"code": ["x"]},
                   "authorization": {"scheme": "Basic", "parameter": "abc"}}
    client.backend.create_or_update(RG, SVC, "aoai", raw(single(credentials=credentials)))
    got = client.backend.get(RG, SVC, "aoai").credentials
    assert (got.header, got.query, got.authorization.scheme) == ({"api-key": ["{{aoai-key}}"]}, {"code": ["x"]}, "Basic")


@pytest.mark.parametrize(("credentials", "expected"), [
    ({"header": {"api-key": ["{{missing}}"]}}, "named value '{{missing}}', which does not exist"),
    ({"header": {"api-key": "plain"}}, "must be a non-empty array of strings"),
    ({"header": {"api-key": []}}, "must be a non-empty array of strings"),
    ({"authorization": {"parameter": "x"}}, "scheme: is required"),
    ({"certificateIds": ["/certificates/c"]}, "does not support client certificates"),
])
def test_bad_credentials_are_refused(client, credentials, expected, refusal):
    with pytest.raises(HttpResponseError) as caught:
        client.backend.create_or_update(RG, SVC, "aoai", raw(single(credentials=credentials)))
    assert caught.value.status_code == 400 and expected in refusal(caught.value)


def test_pairs_with_named_values_resolved():
    properties = resolve_named_values({"credentials": {"header": {"api-key": ["{{AOAI-Key}}"], "x": ["a", "b"]},
                                                       "query": {"code": ["{{other}}"]},
                                                       "authorization": {"scheme": "Bearer", "parameter": "t"}}},
                                      {"aoai-key": "secret"})
    headers, query = credential_pairs(properties)
    assert headers == (("api-key", "secret"), ("x", "a, b"), ("Authorization", "Bearer t"))
    assert query == (("code", "{{other}}"),)


def test_a_named_value_used_by_backend_credentials_cannot_be_deleted(client):
    _named_value(client)
    client.backend.create_or_update(RG, SVC, "aoai", raw(single(credentials={"header": {"api-key": ["{{AOAI-key}}"]}})))
    with pytest.raises(HttpResponseError) as caught:
        client.named_value.delete(RG, SVC, "aoai-key", if_match="*")
    assert caught.value.status_code == 400 and "credentials of backend 'aoai'" in caught.value.error.message
    client.backend.delete(RG, SVC, "aoai", if_match="*")
    client.named_value.delete(RG, SVC, "aoai-key", if_match="*")
