"""<cache-lookup> / <cache-store>: the response cache (GET requests)."""

from __future__ import annotations

import pytest
from .policy_helpers import FakeServices, api, assert_sections, document, execute, rejected, response

URL = {"backend_url": "http://backend.test"}
LOOKUP = '<cache-lookup vary-by-developer="false" vary-by-developer-groups="false"/>'
POLICY = {"inbound": LOOKUP, "outbound": '<cache-store duration="60"/>'}


def test_sections() -> None:
    assert_sections(LOOKUP, ("inbound",))
    assert_sections('<cache-store duration="10"/>', ("outbound",))


@pytest.mark.parametrize(("xml", "message"), [
    ('<cache-lookup vary-by-developer="false"/>', "missing the required attribute 'vary-by-developer-groups'"),
    ('<cache-lookup vary-by-developer="x" vary-by-developer-groups="false"/>', "is not true or false"),
    ('<cache-lookup vary-by-developer="false" vary-by-developer-groups="false"><vary-by-header/></cache-lookup>',
     "<vary-by-header> is empty"),
    ('<cache-lookup vary-by-developer="false" vary-by-developer-groups="false">'
     "<vary-by-query-parameter> ; </vary-by-query-parameter></cache-lookup>", "<vary-by-query-parameter> is empty"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


def test_cache_store_needs_a_duration() -> None:
    # duration: "Required: Yes"
    error = rejected(document(outbound="<cache-store/>"))
    assert "missing the required attribute 'duration'" in str(error)


def test_a_get_is_answered_from_the_cache_until_it_expires() -> None:
    services = FakeServices(answers=[response(200, {"n": 1}), response(200, {"n": 2}), response(200, {"n": 3})])
    first = execute([None, api(**POLICY)], services, method="GET", **URL)
    second = execute([None, api(**POLICY)], services, method="GET", **URL)
    assert first.response_body == second.response_body and len(services.calls) == 1
    services.now += 61
    third = execute([None, api(**POLICY)], services, method="GET", **URL)
    assert b'"n": 2' in third.response_body and len(services.calls) == 2


def test_post_and_error_answers_are_not_cached() -> None:
    services = FakeServices(answers=[response(200), response(200), response(500), response(200)])
    for _ in range(2):
        execute([None, api(**POLICY)], services, **URL)  # POST
    for _ in range(2):
        execute([None, api(**POLICY)], services, method="GET", **URL)
    assert len(services.calls) == 4


def test_vary_by_query_parameter_partitions_the_cache() -> None:
    lookup = ('<cache-lookup vary-by-developer="false" vary-by-developer-groups="false">'
              "<vary-by-query-parameter>q</vary-by-query-parameter></cache-lookup>")
    services = FakeServices()
    policy = api(inbound=lookup, outbound='<cache-store duration="60"/>')
    for query in ("q=1", "q=2", "q=1"):
        execute([None, policy], services, method="GET", query=query, **URL)
    assert len(services.calls) == 2


def test_vary_by_query_parameter_takes_names_separated_by_semicolons() -> None:
    # "Enter a single or multiple parameters. Use semicolon as a separator."
    lookup = ('<cache-lookup vary-by-developer="false" vary-by-developer-groups="false">'
              "<vary-by-query-parameter>a; b</vary-by-query-parameter></cache-lookup>")
    services = FakeServices()
    policy = api(inbound=lookup, outbound='<cache-store duration="60"/>')
    for query in ("a=1&b=1", "a=1&b=2", "a=1&b=1", "a=1&b=2&c=3"):
        execute([None, policy], services, method="GET", query=query, **URL)
    assert len(services.calls) == 2


def test_the_switches_take_policy_expressions() -> None:
    # vary-by-developer, vary-by-developer-groups, must-revalidate: "Policy expressions are allowed."
    lookup = ('<cache-lookup vary-by-developer="@(context.Request.Headers.ContainsKey(&quot;per-developer&quot;))" '
              'vary-by-developer-groups="@(false)" must-revalidate="@(true)"/>')
    services = FakeServices()
    policy = api(inbound=lookup, outbound='<cache-store duration="60"/>')
    for subscription in ("a", "b"):  # shared across subscriptions
        execute([None, policy], services, method="GET", subscription_id=subscription, **URL)
    assert len(services.calls) == 1
    for subscription in ("a", "b", "a"):  # per subscription
        execute([None, policy], services, method="GET", subscription_id=subscription,
                headers=[("per-developer", "1")], **URL)
    assert len(services.calls) == 3
