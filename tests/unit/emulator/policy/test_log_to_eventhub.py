"""<log-to-eventhub>: messages recorded as events (the emulator has no Event Hubs)."""

from __future__ import annotations

import pytest
from .policy_helpers import FakeServices, api, assert_sections, document, execute, rejected

from toolkit.emulator.policy.registry import SECTIONS
from toolkit.emulator.policy.state import state_of


def test_sections() -> None:
    assert_sections('<log-to-eventhub logger-id="l">x</log-to-eventhub>', SECTIONS)


@pytest.mark.parametrize(("xml", "message"), [
    ("<log-to-eventhub>x</log-to-eventhub>", "missing the required attribute 'logger-id'"),
    ('<log-to-eventhub logger-id="l" partition-id="1" partition-key="k">x</log-to-eventhub>', "not both"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


def test_the_message_is_recorded_with_logger_and_partition() -> None:
    services = FakeServices()
    xml = '<log-to-eventhub logger-id="usage" partition-key="@(context.Subscription.Id)">@(context.Request.Method)</log-to-eventhub>'
    execute([None, api(outbound=xml)], services, subscription_id="s2", backend_url="http://b.test")
    [event] = state_of(services).events
    assert (event["kind"], event["logger"], event["message"], event["partition_key"]) == (
        "log-to-eventhub", "usage", "POST", "s2")
