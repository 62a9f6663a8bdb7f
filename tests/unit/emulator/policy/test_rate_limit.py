"""<rate-limit>: calls per renewal period per subscription; 429 with Retry-After."""

from __future__ import annotations

import pytest
from .policy_helpers import FakeServices, api, assert_sections, body_json, document, execute, product, rejected

URL = {"backend_url": "http://backend.test"}
LIMIT = ('<rate-limit calls="2" renewal-period="60" remaining-calls-header-name="x-remaining" '
         'total-calls-header-name="x-total" remaining-calls-variable-name="left"/>')


def test_sections() -> None:
    assert_sections(LIMIT, ("inbound",))


@pytest.mark.parametrize(("xml", "message"), [
    ('<rate-limit renewal-period="60"/>', "missing the required attribute 'calls'"),
    ('<rate-limit calls="2"/>', "missing the required attribute 'renewal-period'"),
    ('<rate-limit calls="-1" renewal-period="60"/>', "outside the allowed range"),
    ('<rate-limit calls="1" renewal-period="0"/>', "outside the allowed range"),
    # "Maximum allowed value: 300 seconds"; APIM refuses to save a longer period (MicrosoftDocs/azure-docs#17231)
    ('<rate-limit calls="1" renewal-period="301"/>', "301 is outside the allowed range 1-300"),
    ('<rate-limit calls="1" renewal-period="@(60)"/>', "policy expressions are not allowed"),
    ('<rate-limit calls="1" renewal-period="60"/><rate-limit calls="2" renewal-period="60"/>', "once"),
    ('<rate-limit calls="1" renewal-period="60"><api name="x"/></rate-limit>',
     "the local emulator does not support <api> inside <rate-limit> (APIM does)"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


def test_the_third_call_in_the_window_is_refused_and_the_next_window_allows_again() -> None:
    services = FakeServices()
    policy = api(inbound=LIMIT)
    first = execute([None, policy], services, **URL)
    assert (first.response_headers.get("x-remaining"), first.response_headers.get("x-total")) == ("1", "2")
    assert first.variables["left"] == 1
    assert execute([None, policy], services, **URL).response_status == 200
    refused = execute([None, policy], services, **URL)
    assert refused.response_status == 429 and refused.response_headers.get("Retry-After") == "60"
    assert body_json(refused)["message"] == "Rate limit is exceeded. Try again in 60 seconds."
    assert len(services.calls) == 2
    services.now += 60
    assert execute([None, policy], services, **URL).response_status == 200


def test_the_window_slides_calls_leave_it_one_by_one() -> None:
    # renewal-period: "The length in seconds of the sliding window during which the number of allowed requests
    # should not exceed the value specified in calls." A fixed window opened at t=0 would allow t=10 and t=11.
    services = FakeServices()
    policy = api(inbound='<rate-limit calls="2" renewal-period="10"/>')
    start, statuses = services.now, {}
    for at in (0, 5, 9, 10, 11, 14, 15):
        services.now = start + at
        answer = execute([None, policy], services, **URL)
        statuses[at] = (answer.response_status, answer.response_headers.get("Retry-After"))
    assert statuses == {0: (200, None), 5: (200, None), 9: (429, "1"), 10: (200, None), 11: (429, "4"),
                        14: (429, "1"), 15: (200, None)}


def test_subscriptions_count_apart() -> None:
    services = FakeServices()
    policy = api(inbound='<rate-limit calls="1" renewal-period="60"/>')
    assert execute([None, policy], services, subscription_id="a", **URL).response_status == 200
    assert execute([None, policy], services, subscription_id="b", **URL).response_status == 200
    assert execute([None, policy], services, subscription_id="a", **URL).response_status == 429


def test_a_period_of_300_seconds_is_the_longest() -> None:
    services = FakeServices()
    policy = api(inbound='<rate-limit calls="1" renewal-period="300"/>')
    assert execute([None, policy], services, **URL).response_status == 200
    assert execute([None, policy], services, **URL).response_headers.get("Retry-After") == "300"


def test_not_at_global_scope() -> None:
    # "Policy scopes: product, API, operation"
    error = rejected(document(inbound='<rate-limit calls="1" renewal-period="60"/>'), "global")
    assert "<rate-limit> is not allowed at global scope" in str(error)


def test_calls_without_a_subscription_key_are_not_counted() -> None:
    # "This policy is only applied when an API is accessed using a subscription key."
    services = FakeServices()
    policy = api(inbound='<rate-limit calls="1" renewal-period="60"/>')
    statuses = [execute([None, policy], services, subscription_id=None, **URL).response_status for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert [execute([None, policy], services, **URL).response_status for _ in range(2)] == [200, 429]


def test_renamed_retry_after_header_and_variable() -> None:
    services = FakeServices()
    policy = api(inbound='<rate-limit calls="1" renewal-period="60" retry-after-header-name="x-wait" '
                         'retry-after-variable-name="wait"/>')
    execute([None, policy], services, **URL)
    refused = execute([None, policy], services, **URL)
    assert (refused.last_error_source, refused.last_error_reason) == ("rate-limit", "RateLimitExceeded")
    assert refused.response_headers.get("x-wait") == "60" and refused.response_headers.get("Retry-After") is None
    assert refused.variables["wait"] == 60


def test_each_rate_limit_policy_counts_apart() -> None:
    services = FakeServices()
    chain = [None, product(inbound='<rate-limit calls="1" renewal-period="60"/>'),
             api(inbound='<base/><rate-limit calls="1" renewal-period="60"/>')]
    assert execute(chain, services, **URL).response_status == 200
    assert execute(chain, services, **URL).response_status == 429


def test_a_limit_of_zero_calls_refuses_every_call() -> None:
    assert execute([None, api(inbound='<rate-limit calls="0" renewal-period="60"/>')], FakeServices(),
                   **URL).response_status == 429


def test_the_remaining_calls_header_counts_down_to_zero() -> None:
    services = FakeServices()
    policy = api(inbound='<rate-limit calls="1" renewal-period="60" remaining-calls-header-name="x-left" '
                         'remaining-calls-variable-name="left"/>')
    answer = execute([None, policy], services, **URL)
    assert (answer.response_headers.get("x-left"), answer.variables["left"]) == ("0", 0)
