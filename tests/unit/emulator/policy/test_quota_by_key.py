"""<quota-by-key>: a quota per key value, periods aligned to first-period-start (default 0001-01-01)."""

from __future__ import annotations

import pytest
from .policy_helpers import NOW, FakeServices, api, assert_sections, body_json, document, execute, product, rejected

URL = {"backend_url": "http://backend.test"}


def test_sections() -> None:
    assert_sections('<quota-by-key calls="1" renewal-period="300" counter-key="k"/>', ("inbound",))


@pytest.mark.parametrize(("xml", "message"), [
    ('<quota-by-key calls="1" renewal-period="300"/>', "missing the required attribute 'counter-key'"),
    ('<quota-by-key calls="1" renewal-period="300" counter-key="k" first-period-start="soon"/>', "is not a date"),
    # "Minimum period: 300 seconds" (0: never renews)
    ('<quota-by-key calls="1" renewal-period="299" counter-key="k"/>', "below the minimum period of 300 seconds"),
    ('<quota-by-key calls="1" renewal-period="@(300)" counter-key="k"/>', "policy expressions are not allowed"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


def test_the_period_is_aligned_to_first_period_start() -> None:
    from datetime import UTC, datetime

    start = datetime.fromtimestamp(NOW - 50, UTC).isoformat()
    services = FakeServices()
    policy = api(inbound=f'<quota-by-key calls="1" renewal-period="300" counter-key="@(context.Subscription.Id)" '
                         f'first-period-start="{start}"/>')
    assert execute([None, policy], services, **URL).response_status == 200
    assert execute([None, policy], services, **URL).response_status == 403
    services.now += 250  # the period that began 50 s before NOW ends now
    assert execute([None, policy], services, **URL).response_status == 200
    assert execute([None, policy], services, subscription_id="other", **URL).response_status == 200


def test_without_first_period_start_the_periods_are_aligned_to_the_clock() -> None:
    # The default first-period-start is 0001-01-01T00:00:00Z: an hour-long period renews on the hour, whenever
    # the first call came (Microsoft's docs; a real 600 s quota answered "retry-after: 504" at 00:41:36).
    services = FakeServices()
    policy = api(inbound='<quota-by-key calls="1" renewal-period="3600" counter-key="k"/>')
    assert execute([None, policy], services, **URL).response_status == 200
    refused = execute([None, policy], services, **URL)
    assert refused.response_status == 403
    assert refused.response_headers.get("Retry-After") == str(3600 - int(NOW) % 3600) == "2780"
    assert body_json(refused)["message"] == "Out of call volume quota. Quota will be replenished in 00:46:20."
    services.now += 2780
    assert execute([None, policy], services, **URL).response_status == 200


def test_a_period_of_zero_never_renews() -> None:
    services = FakeServices()
    policy = api(inbound='<quota-by-key calls="1" renewal-period="0" counter-key="k"/>')
    assert execute([None, policy], services, **URL).response_status == 200
    services.now += 10 * 365 * 86400
    assert execute([None, policy], services, **URL).response_status == 403


def test_increment_count_adds_more_than_one() -> None:
    services = FakeServices()
    policy = api(inbound='<quota-by-key calls="3" renewal-period="300" counter-key="k" increment-count="@(2)"/>')
    assert execute([None, policy], services, **URL).response_status == 200
    assert execute([None, policy], services, **URL).response_status == 200  # 2 < 3: allowed, now 4
    assert execute([None, policy], services, **URL).response_status == 403


def test_a_key_named_by_two_policies_counts_once_per_request() -> None:
    # "If multiple policies would increment the same key value, it is incremented only once per request."
    services = FakeServices()
    limit = '<quota-by-key calls="2" renewal-period="300" counter-key="shared"/>'
    chain = [None, product(inbound=limit), api(inbound="<base/>" + limit)]
    assert execute(chain, services, **URL).response_status == 200
    assert execute(chain, services, **URL).response_status == 200
    assert execute(chain, services, **URL).response_status == 403


def test_a_conditional_increment_counts_once_per_request_too() -> None:
    services = FakeServices()
    limit = ('<quota-by-key calls="2" renewal-period="300" counter-key="shared" '
             'increment-condition="@(context.Response.StatusCode == 200)"/>')
    chain = [None, product(inbound=limit), api(inbound="<base/>" + limit)]
    assert [execute(chain, services, **URL).response_status for _ in range(3)] == [200, 200, 403]


@pytest.mark.parametrize(("xml", "message"), [
    ('<quota-by-key calls="1" renewal-period="1" counter-key="k"/>', "below the minimum period"),
    ('<quota-by-key calls="1" renewal-period="300" counter-key="k" increment-count="0"/>', "outside the allowed range"),
])
def test_more_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


def test_first_period_start_may_end_with_z() -> None:
    from datetime import UTC, datetime

    start = datetime.fromtimestamp(NOW - 50, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    services = FakeServices()
    policy = api(inbound=f'<quota-by-key calls="1" renewal-period="300" counter-key="k" first-period-start="{start}"/>')
    execute([None, policy], services, **URL)
    assert execute([None, policy], services, **URL).response_headers.get("Retry-After") == "250"


def test_two_keys_in_one_request_count_apart() -> None:
    services = FakeServices()
    chain = [None, product(inbound='<quota-by-key calls="1" renewal-period="300" counter-key="a"/>'),
             api(inbound='<base/><quota-by-key calls="1" renewal-period="300" counter-key="b"/>')]
    assert execute(chain, services, **URL).response_status == 200
    refused = execute(chain, services, **URL)
    assert (refused.response_status, refused.last_error_reason) == (403, "QuotaExceeded")


def test_a_key_counted_by_a_shorter_period_first_is_in_the_longer_periods_window_too() -> None:
    # The product's policy counts the request before the API's window (another period) opens: the count is the
    # request's all the same, so the API's calls="1" allows one call, not two.
    services = FakeServices()
    chain = [None, product(inbound='<quota-by-key calls="10" renewal-period="3600" counter-key="k"/>'),
             api(inbound='<base/><quota-by-key calls="1" renewal-period="7200" counter-key="k"/>')]
    assert [execute(chain, services, **URL).response_status for _ in range(3)] == [200, 403, 403]


def test_a_lifetime_quota_names_no_time_to_wait() -> None:
    services = FakeServices()
    policy = api(inbound='<quota-by-key calls="1" renewal-period="0" counter-key="k"/>')
    execute([None, policy], services, **URL)
    refused = execute([None, policy], services, **URL)
    assert body_json(refused)["message"] == "Out of call volume quota."
    assert refused.response_headers.get("Retry-After") is None
