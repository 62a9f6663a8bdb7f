"""<quota>: calls or bandwidth per renewal period per subscription; 403 when used up."""

from __future__ import annotations

import pytest
from .policy_helpers import FakeServices, api, assert_sections, body_json, document, execute, rejected

URL = {"backend_url": "http://backend.test"}


def test_sections() -> None:
    assert_sections('<quota calls="1" renewal-period="60"/>', ("inbound",))


@pytest.mark.parametrize(("xml", "message"), [
    ('<quota renewal-period="60"/>', "needs 'calls' or 'bandwidth'"),
    ('<quota calls="1"/>', "missing the required attribute 'renewal-period'"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


def test_calls_over_the_quota_get_403_with_the_time_to_renewal() -> None:
    services = FakeServices()
    policy = api(inbound='<quota calls="1" renewal-period="3600"/>')
    assert execute([None, policy], services, **URL).response_status == 200
    services.now += 59
    refused = execute([None, policy], services, **URL)
    assert refused.response_status == 403
    assert body_json(refused)["message"] == "Out of call volume quota. Quota will be replenished in 00:59:01."


def test_bandwidth_counts_request_and_response_kilobytes() -> None:
    services = FakeServices()
    policy = api(inbound='<quota bandwidth="1" renewal-period="60"/>')
    big = b"x" * 2048
    assert execute([None, policy], services, body=big, **URL).response_status == 200
    assert execute([None, policy], services, **URL).response_status == 403
