"""<quota>: calls or bandwidth per renewal period per subscription, at product scope; 403 when used up."""

from __future__ import annotations

import pytest
from .policy_helpers import FakeServices, assert_sections, body_json, document, execute, product, rejected

URL = {"backend_url": "http://backend.test"}


def test_sections() -> None:
    assert_sections('<quota calls="1" renewal-period="60"/>', ("inbound",), scope="product")


@pytest.mark.parametrize("scope", ["global", "api", "operation"])
def test_only_products_hold_a_quota(scope: str) -> None:
    # "Policy scopes: product"; APIM: "Policy is not allowed in the specified scope"
    error = rejected(document(inbound='<quota calls="1" renewal-period="60"/>'), scope)
    assert f"<quota> is not allowed at {scope} scope" in str(error)


@pytest.mark.parametrize(("xml", "message"), [
    ('<quota renewal-period="60"/>', "needs 'calls' or 'bandwidth'"),
    ('<quota calls="1"/>', "missing the required attribute 'renewal-period'"),
    ('<quota calls="1" renewal-period="60"/><quota calls="2" renewal-period="60"/>', "once"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml), "product"))


def test_calls_over_the_quota_get_403_with_the_time_to_renewal() -> None:
    services = FakeServices()
    policy = product(inbound='<quota calls="1" renewal-period="3600"/>')
    assert execute([None, policy], services, **URL).response_status == 200
    services.now += 59
    refused = execute([None, policy], services, **URL)
    assert refused.response_status == 403
    assert body_json(refused)["message"] == "Out of call volume quota. Quota will be replenished in 00:59:01."
    # "the response includes a Retry-After header whose value is the recommended retry interval in seconds"
    assert refused.response_headers.get("Retry-After") == "3541"
    services.now += 3540.5  # half a second before the renewal: at least one second to wait
    assert execute([None, policy], services, **URL).response_headers.get("Retry-After") == "1"


def test_bandwidth_counts_request_and_response_kilobytes() -> None:
    services = FakeServices()
    policy = product(inbound='<quota bandwidth="1" renewal-period="60"/>')
    big = b"x" * 2048
    assert execute([None, policy], services, body=big, **URL).response_status == 200
    assert execute([None, policy], services, **URL).response_status == 403


def test_calls_without_a_subscription_key_are_not_counted() -> None:
    # "This policy is only applied when an API is accessed using a subscription key."
    services = FakeServices()
    policy = product(inbound='<quota calls="1" renewal-period="3600"/>')
    for _ in range(3):
        assert execute([None, policy], services, subscription_id=None, **URL).response_status == 200
    assert execute([None, policy], services, **URL).response_status == 200
    assert execute([None, policy], services, **URL).response_status == 403


def test_refusals_name_the_quota_in_last_error_and_format_hours() -> None:
    services = FakeServices()
    policy = product(inbound='<quota calls="1" renewal-period="7200"/>')
    execute([None, policy], services, **URL)
    refused = execute([None, policy], services, **URL)
    assert (refused.last_error_source, refused.last_error_reason) == ("quota", "QuotaExceeded")
    assert body_json(refused)["message"] == "Out of call volume quota. Quota will be replenished in 02:00:00."
    services.now += 3599
    later = execute([None, policy], services, **URL)
    assert body_json(later)["message"] == "Out of call volume quota. Quota will be replenished in 01:00:01."


@pytest.mark.parametrize("xml", ['<quota calls="0" renewal-period="60"/>', '<quota bandwidth="0" renewal-period="60"/>'])
def test_a_quota_of_zero_refuses_every_call(xml: str) -> None:
    assert execute([None, product(inbound=xml)], FakeServices(), **URL).response_status == 403


def test_each_quota_policy_counts_apart() -> None:
    # Per subscription and policy: a product's quota and another product's do not share a count.
    services = FakeServices()
    chain = [None, product(inbound='<quota calls="1" renewal-period="60"/>'),
             product(inbound='<base/><quota calls="1" renewal-period="60"/>')]
    assert execute(chain, services, **URL).response_status == 200
    assert execute(chain, services, **URL).response_status == 403


@pytest.mark.parametrize(("used", "second"), [(1024, 403), (1023, 200)])
def test_a_kilobyte_is_1024_bytes_of_request_and_reply(used: int, second: int) -> None:
    policy = product(inbound='<quota bandwidth="1" renewal-period="60"/>')
    reply = len(execute([None, policy], FakeServices(), **URL).response_body)
    services = FakeServices()
    assert execute([None, policy], services, body=b"x" * (used - reply), **URL).response_status == 200
    assert execute([None, policy], services, **URL).response_status == second


@pytest.mark.parametrize("xml", ['<quota calls="1" renewal-period="-1"/>', '<quota bandwidth="-1" renewal-period="60"/>'])
def test_negative_numbers_are_refused(xml: str) -> None:
    assert "outside the allowed range" in str(rejected(document(inbound=xml), "product"))
