"""<cache-lookup-value>, <cache-store-value>, <cache-remove-value>: the internal cache."""

from __future__ import annotations

import pytest
from .policy_helpers import FakeServices, api, assert_sections, document, execute, rejected

from toolkit.emulator.policy.registry import SECTIONS

URL = {"backend_url": "http://backend.test"}
STORE = '<cache-store-value key="k" value="@(41 + 1)" duration="60"/>'
LOOKUP = '<cache-lookup-value key="k" variable-name="v"/>'


def test_sections() -> None:
    assert_sections(LOOKUP, SECTIONS)
    assert_sections(STORE, SECTIONS)
    assert_sections('<cache-remove-value key="k"/>', SECTIONS)


@pytest.mark.parametrize(("xml", "message"), [
    ('<cache-lookup-value key="k"/>', "missing the required attribute 'variable-name'"),
    ('<cache-lookup-value key="k" variable-name=" "/>', "'variable-name' is empty"),
    ('<cache-lookup-value key="k" variable-name="v" caching-type="disk"/>', "'disk' is not one of"),
    ('<cache-store-value key="k" value="v"/>', "missing the required attribute 'duration'"),
    ('<cache-store-value key="k" value="v" duration="0"/>', "0 is outside the allowed range"),
    ('<cache-remove-value/>', "missing the required attribute 'key'"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


def test_a_stored_value_is_found_with_its_type_until_it_expires() -> None:
    services = FakeServices()
    execute([None, api(inbound=STORE)], services, **URL)
    ctx = execute([None, api(inbound=LOOKUP)], services, **URL)
    assert ctx.variables["v"] == 42
    services.now += 61
    assert "v" not in execute([None, api(inbound=LOOKUP)], services, **URL).variables


def test_a_miss_uses_the_default_or_leaves_the_variable_unset() -> None:
    ctx = execute([None, api(inbound='<cache-lookup-value key="none" variable-name="v" default-value="d"/>')], **URL)
    assert ctx.variables["v"] == "d"
    assert "v" not in execute([None, api(inbound=LOOKUP)], **URL).variables


def test_remove_forgets_the_key() -> None:
    services = FakeServices()
    execute([None, api(inbound=STORE)], services, **URL)
    execute([None, api(inbound='<cache-remove-value key="@(&quot;k&quot;)"/>')], services, **URL)
    assert "v" not in execute([None, api(inbound=LOOKUP)], services, **URL).variables


def test_keys_are_evaluated_per_request() -> None:
    services = FakeServices()
    store = '<cache-store-value key="@(context.Subscription.Id)" value="@(context.Subscription.Id)" duration="60"/>'
    execute([None, api(inbound=store)], services, subscription_id="a", **URL)
    lookup = '<cache-lookup-value key="@(context.Subscription.Id)" variable-name="v"/>'
    assert execute([None, api(inbound=lookup)], services, subscription_id="a", **URL).variables["v"] == "a"
    assert "v" not in execute([None, api(inbound=lookup)], services, subscription_id="b", **URL).variables
