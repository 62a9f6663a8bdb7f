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
    # log-to-eventhub-policy.md: partition-id "Policy expressions aren't allowed."
    ('<log-to-eventhub logger-id="l" partition-id="@(&quot;1&quot;)">x</log-to-eventhub>',
     "'partition-id': policy expressions are not allowed here"),
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


@pytest.mark.parametrize(("message", "kept"), [
    ("A" * 300_000, 204_800),
    ("A" * 204_799 + "é" + "B", 204_799),  # never half a character: "é" is 2 bytes of UTF-8
    ("é" * 102_400, 102_400),  # exactly 200 KB
], ids=["ascii", "split-character", "exactly-200-kb"])
def test_messages_over_200_kb_are_truncated(message: str, kept: int) -> None:
    """log-to-eventhub-policy.md: "A larger message will be automatically truncated to 200 KB"."""
    services = FakeServices()
    xml = f'<log-to-eventhub logger-id="l" partition-id="3">{message}</log-to-eventhub>'
    execute([None, api(inbound=xml)], services, backend_url="http://b.test")
    [event] = state_of(services).events
    recorded = event["message"]
    assert (len(recorded), recorded == message[:kept], event["partition_id"]) == (kept, True, "3")  # short diffs
