"""<find-and-replace>: text in the request body (inbound) or the response body (outbound)."""

from __future__ import annotations

import pytest
from .policy_helpers import FakeServices, api, assert_sections, document, execute, rejected, response

from toolkit.emulator.policy.registry import SECTIONS

URL = {"backend_url": "http://backend.test"}


def test_sections() -> None:
    assert_sections('<find-and-replace from="a" to="b"/>', SECTIONS)


@pytest.mark.parametrize(("xml", "message"), [
    ('<find-and-replace from="a"/>', "missing the required attribute 'to'"),
    ('<find-and-replace from="" to="b"/>', "'from' is empty"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


def test_request_and_response_bodies() -> None:
    services = FakeServices(answers=[response(200, {"text": "secret secret"})])
    policy = api(inbound='<find-and-replace from="climate" to="weather"/>',
                 outbound='<find-and-replace from="@(&quot;secret&quot;)" to="***"/>')
    ctx = execute([None, policy], services, **URL)
    assert b"weather change" in services.calls[0]["body"]
    assert ctx.response_body == b'{"text": "*** ***"}'
