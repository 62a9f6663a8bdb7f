"""<rate-limit-by-key>: one counter per key value; increment-condition after the backend."""

from __future__ import annotations

import pytest
from .policy_helpers import FakeServices, api, assert_sections, document, execute, rejected

URL = {"backend_url": "http://backend.test"}
LIMIT = '<rate-limit-by-key calls="1" renewal-period="30" counter-key="@(context.Request.IpAddress)"/>'


def test_sections() -> None:
    assert_sections(LIMIT, ("inbound",))


@pytest.mark.parametrize(("xml", "message"), [
    ('<rate-limit-by-key calls="1" renewal-period="30"/>', "missing the required attribute 'counter-key'"),
    ('<rate-limit-by-key calls="1" renewal-period="30" counter-key="k" increment-count="0"/>', "outside"),
    ('<rate-limit-by-key calls="1" renewal-period="30" counter-key="k" increment-condition="yes"/>',
     "'yes' is not true or false"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


def test_each_key_has_its_own_counter_shared_across_policies() -> None:
    services = FakeServices()
    one, other = api(inbound=LIMIT), api(inbound=LIMIT)
    assert execute([None, one], services, client_ip="10.0.0.1", **URL).response_status == 200
    assert execute([None, other], services, client_ip="10.0.0.1", **URL).response_status == 429
    assert execute([None, one], services, client_ip="10.0.0.2", **URL).response_status == 200


def test_increment_condition_counts_only_matching_answers() -> None:
    services = FakeServices(answers=[500, 500, 200, 200])
    policy = api(inbound='<rate-limit-by-key calls="1" renewal-period="30" counter-key="k" '
                         'increment-condition="@(context.Response.StatusCode == 200)"/>')
    statuses = [execute([None, policy], services, **URL).response_status for _ in range(4)]
    assert statuses == [500, 500, 200, 429]
