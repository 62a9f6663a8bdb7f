"""<trace>: a message and metadata in the request's trace and the recorded events."""

from __future__ import annotations

import pytest
from .policy_helpers import FakeServices, api, assert_sections, document, execute, rejected

from toolkit.emulator.policy.registry import SECTIONS
from toolkit.emulator.policy.state import state_of

TRACE = ('<trace source="gw" severity="error"><message>@("from " + context.Subscription.Id)</message>'
         '<metadata name="tier" value="gold"/></trace>')


def test_sections() -> None:
    assert_sections(TRACE, SECTIONS)


@pytest.mark.parametrize(("xml", "message"), [
    ('<trace source="gw"/>', "needs a <message>"),
    ('<trace source="gw" severity="debug"><message>x</message></trace>', "'debug' is not one of"),
    ('<trace><message>x</message></trace>', "missing the required attribute 'source'"),
    ('<trace source="g"><message>a</message><message>b</message></trace>', "takes one <message>"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


def test_the_message_is_traced_and_recorded() -> None:
    services = FakeServices()
    ctx = execute([None, api(inbound=TRACE)], services, subscription_id="s1", backend_url="http://b.test")
    [event] = ctx.trace.find("trace")
    assert event["message"] == "from s1" and event["data"]["metadata"] == {"tier": "gold"}
    [recorded] = [e for e in state_of(services).events if e["kind"] == "trace"]
    assert (recorded["source"], recorded["severity"], recorded["message"]) == ("gw", "error", "from s1")


def test_severity_defaults_to_verbose() -> None:
    """trace-policy.md: severity "Allowed values are verbose, information, error" | No | verbose."""
    services = FakeServices()
    execute([None, api(inbound='<trace source="gw"><message>m</message></trace>')], services, backend_url="http://b.test")
    [recorded] = [e for e in state_of(services).events if e["kind"] == "trace"]
    assert recorded["severity"] == "verbose"
