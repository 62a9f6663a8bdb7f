"""<quota-by-key>: a quota per key value, periods aligned to first-period-start."""

from __future__ import annotations

import pytest
from .policy_helpers import NOW, FakeServices, api, assert_sections, document, execute, rejected

URL = {"backend_url": "http://backend.test"}


def test_sections() -> None:
    assert_sections('<quota-by-key calls="1" renewal-period="60" counter-key="k"/>', ("inbound",))


@pytest.mark.parametrize(("xml", "message"), [
    ('<quota-by-key calls="1" renewal-period="60"/>', "missing the required attribute 'counter-key'"),
    ('<quota-by-key calls="1" renewal-period="60" counter-key="k" first-period-start="soon"/>', "is not a date"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


def test_the_period_is_aligned_to_first_period_start() -> None:
    from datetime import UTC, datetime

    start = datetime.fromtimestamp(NOW - 50, UTC).isoformat()
    services = FakeServices()
    policy = api(inbound=f'<quota-by-key calls="1" renewal-period="60" counter-key="@(context.Subscription.Id)" '
                         f'first-period-start="{start}"/>')
    assert execute([None, policy], services, **URL).response_status == 200
    assert execute([None, policy], services, **URL).response_status == 403
    services.now += 10  # the period that began 50 s before NOW ends now
    assert execute([None, policy], services, **URL).response_status == 200
    assert execute([None, policy], services, subscription_id="other", **URL).response_status == 200
