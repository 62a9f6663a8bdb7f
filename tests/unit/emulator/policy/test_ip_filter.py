"""<ip-filter>: allow or forbid callers by address or range."""

from __future__ import annotations

import pytest
from .policy_helpers import api, assert_sections, body_json, document, execute, rejected

URL = {"backend_url": "http://backend.test"}
RANGE = '<address-range from="10.0.0.1" to="10.0.0.9"/>'


def test_sections() -> None:
    assert_sections(f'<ip-filter action="allow">{RANGE}</ip-filter>', ("inbound",))


@pytest.mark.parametrize(("xml", "message"), [
    ('<ip-filter action="allow"/>', "needs an <address>"),
    ('<ip-filter action="deny">' + RANGE + "</ip-filter>", "'deny' is not one of"),
    ('<ip-filter action="allow"><address>10.0.0.300</address></ip-filter>', "<address>"),
    ('<ip-filter action="allow"><address-range from="10.0.0.9" to="10.0.0.1"/></ip-filter>', "must not be above"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


@pytest.mark.parametrize(("action", "ip", "status"), [
    ("allow", "10.0.0.5", 200), ("allow", "10.0.0.10", 403), ("allow", "::1", 403),
    ("forbid", "10.0.0.1", 403), ("forbid", "10.0.0.9", 403), ("forbid", "10.0.1.1", 200),
])
def test_callers(action: str, ip: str, status: int) -> None:
    ctx = execute([None, api(inbound=f'<ip-filter action="{action}">{RANGE}<address>192.0.2.1</address></ip-filter>')],
                  client_ip=ip, **URL)
    assert ctx.response_status == status
    if status == 403:
        assert body_json(ctx)["message"] == "Caller IP address is not allowed."
