"""<emit-metric>: one custom metric value per run."""

from __future__ import annotations

import pytest
from .policy_helpers import FakeServices, api, assert_sections, document, execute, rejected

from toolkit.emulator.policy.registry import SECTIONS
from toolkit.emulator.policy.state import state_of

URL = {"backend_url": "http://backend.test"}


def test_sections() -> None:
    assert_sections('<emit-metric name="calls"/>', SECTIONS)


@pytest.mark.parametrize(("xml", "message"), [
    ('<emit-metric/>', "missing the required attribute 'name'"),
    ('<emit-metric name="m" value="many"/>', "'many' is not a number"),
    # Not among the documented defaults (API ID, Operation ID, Product ID, User ID, Subscription ID, Location,
    # Gateway ID, Backend ID): a value is needed.
    ('<emit-metric name="m"><dimension name="Client IP"/></emit-metric>', '<dimension name="Client IP"> needs a value'),
    ('<emit-metric name="m"><dimension name="Client IP address"/></emit-metric>', "needs a value"),
    ('<llm-emit-token-metric><dimension name="Client IP"/></llm-emit-token-metric>', "needs a value"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


def test_value_and_dimensions_are_recorded() -> None:
    services = FakeServices()
    xml = ('<emit-metric name="size" namespace="app" value="@(context.Request.Method.Length)">'
           '<dimension name="Subscription ID"/></emit-metric>')
    execute([None, api(inbound=xml)], services, subscription_id="s1", **URL)
    [recorded] = state_of(services).metrics
    assert (recorded["name"], recorded["namespace"], recorded["value"], recorded["dimensions"]) == (
        "size", "app", 4.0, {"Subscription ID": "s1"})


def test_a_non_numeric_value_fails_the_request() -> None:
    ctx = execute([None, api(inbound='<emit-metric name="m" value="@(context.Request.Method)"/>')], **URL)
    assert ctx.response_status == 500 and ctx.last_error_reason == "InvalidMetricValue"
