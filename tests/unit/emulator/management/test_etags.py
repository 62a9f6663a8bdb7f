"""ETag / If-Match semantics: every write changes the ETag; stale If-Match gives 412; ``*`` forces."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from toolkit.testing.management_bodies import RG, SVC, raw, single, status_of, with_etag


def test_put_and_get_report_the_same_etag_and_each_write_changes_it(client):
    _, put_etag = client.backend.create_or_update(RG, SVC, "east", raw(single()), cls=with_etag)
    _, get_etag = client.backend.get(RG, SVC, "east", cls=with_etag)
    assert get_etag == put_etag
    _, second = client.backend.create_or_update(RG, SVC, "east", raw(single()), if_match=get_etag, cls=with_etag)
    assert second != put_etag


def test_stale_if_match_on_put_is_412_and_changes_nothing(client):
    _, old = client.backend.create_or_update(RG, SVC, "east", raw(single("https://one.example")), cls=with_etag)
    client.backend.create_or_update(RG, SVC, "east", raw(single("https://two.example")))
    with pytest.raises(HttpResponseError) as caught:
        client.backend.create_or_update(RG, SVC, "east", raw(single("https://three.example")), if_match=old)
    assert caught.value.status_code == 412
    assert caught.value.error.code == "PreconditionFailed"
    assert client.backend.get(RG, SVC, "east").url == "https://two.example"


def test_star_forces_the_write(client):
    client.backend.create_or_update(RG, SVC, "east", raw(single("https://one.example")))
    client.backend.create_or_update(RG, SVC, "east", raw(single("https://three.example")), if_match="*")
    assert client.backend.get(RG, SVC, "east").url == "https://three.example"


def test_a_specific_etag_does_not_match_a_missing_resource(client):
    with pytest.raises(HttpResponseError) as caught:
        client.backend.create_or_update(RG, SVC, "ghost", raw(single()), if_match='"abc"')
    assert caught.value.status_code == 412


def test_stale_if_match_on_delete_is_412_and_current_one_deletes(client):
    _, old = client.backend.create_or_update(RG, SVC, "east", raw(single()), cls=with_etag)
    _, current = client.backend.create_or_update(RG, SVC, "east", raw(single()), cls=with_etag)
    with pytest.raises(HttpResponseError) as caught:
        client.backend.delete(RG, SVC, "east", if_match=old)
    assert caught.value.status_code == 412
    assert client.backend.delete(RG, SVC, "east", if_match=current, cls=status_of) == 200


def test_policy_etags_follow_the_same_rules(client):
    from azure.mgmt.apimanagement import models

    policy = models.PolicyContract(value="<policies><inbound /></policies>", format="rawxml")
    _, first = client.policy.create_or_update(RG, SVC, "policy", policy, cls=with_etag)
    client.policy.create_or_update(RG, SVC, "policy", policy, if_match=first)
    with pytest.raises(HttpResponseError) as caught:
        client.policy.create_or_update(RG, SVC, "policy", policy, if_match=first)
    assert caught.value.status_code == 412
