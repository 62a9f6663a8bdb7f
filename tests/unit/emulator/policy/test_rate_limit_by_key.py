"""<rate-limit-by-key>: one counter per key value; increment-condition after the backend."""

from __future__ import annotations

import pytest
from toolkit.emulator.policy.state import state_of

from .policy_helpers import FakeServices, api, assert_sections, document, execute, product, rejected

URL = {"backend_url": "http://backend.test"}
LIMIT = '<rate-limit-by-key calls="1" renewal-period="30" counter-key="@(context.Request.IpAddress)"/>'


def test_sections() -> None:
    assert_sections(LIMIT, ("inbound",))


@pytest.mark.parametrize(("xml", "message"), [
    ('<rate-limit-by-key calls="1" renewal-period="30"/>', "missing the required attribute 'counter-key'"),
    ('<rate-limit-by-key calls="1" renewal-period="30" counter-key="k" increment-count="0"/>', "outside"),
    ('<rate-limit-by-key calls="1" renewal-period="30" counter-key="k" increment-condition="yes"/>',
     "'yes' is not true or false"),
    ('<rate-limit-by-key calls="1" renewal-period="301" counter-key="k"/>', "outside the allowed range 1-300"),
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


def test_policies_on_one_key_share_its_count_whatever_their_periods() -> None:
    # "For each key value, a single counter is used for all scopes at which the policy is configured": each policy
    # counts the call (only quota-by-key counts a key once per request), and each sees the calls of the one counter
    # within its own sliding window, a window it opens included.
    services = FakeServices()
    chain = [None, product(inbound='<rate-limit-by-key calls="100" renewal-period="60" counter-key="same"/>'),
             api(inbound='<base/><rate-limit-by-key calls="3" renewal-period="30" counter-key="same"/>')]
    assert execute(chain, services, **URL).response_status == 200  # 2 calls at t=0
    services.now += 20
    refused = execute(chain, services, **URL)  # the product policy counts a third call; the API's 30 s hold 3
    assert refused.response_status == 429
    assert refused.response_headers.get("Retry-After") == "10"  # the calls of t=0 leave the 30 s window at t=30
    services.now += 10
    assert execute(chain, services, **URL).response_status == 200  # the 30 s window holds t=20's call only
    log = state_of(services).rates["rate-limit|key|same"]
    assert (log.calls(60, services.now), log.calls(30, services.now)) == (5, 3)


def test_the_renewal_period_may_be_an_expression() -> None:
    # renewal-period: "Policy expressions are allowed."
    services = FakeServices()
    policy = api(inbound='<rate-limit-by-key calls="1" counter-key="k" '
                         'renewal-period="@(context.Request.Headers.GetValueOrDefault(&quot;p&quot;, &quot;30&quot;) == &quot;30&quot; ? 30 : 400)"/>')
    assert execute([None, policy], services, **URL).response_status == 200
    refused = execute([None, policy], services, **URL)
    assert refused.response_status == 429 and refused.response_headers.get("Retry-After") == "30"
    failed = execute([None, policy], services, headers=[("p", "long")], **URL)
    assert failed.response_status == 500 and "outside 1..300" in failed.last_error_message
