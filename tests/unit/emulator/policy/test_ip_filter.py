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


NOT_ALLOWED = ("CallerIpNotAllowed", "Caller IP address {} is not allowed. Access denied.")
BLOCKED = ("CallerIpBlocked", "Caller IP address is blocked. Access denied.")
UNPARSED = ("FailedToParseCallerIP", "Failed to establish IP address for the caller. Access denied.")


@pytest.mark.parametrize(("action", "ip", "error"), [
    ("allow", "10.0.0.5", None), ("allow", "10.0.0.10", NOT_ALLOWED), ("allow", "::1", NOT_ALLOWED),
    ("forbid", "10.0.0.1", BLOCKED), ("forbid", "10.0.0.9", BLOCKED), ("forbid", "10.0.1.1", None),
    ("allow", "not-an-ip", UNPARSED), ("forbid", "", UNPARSED),
])
def test_callers(action: str, ip: str, error: tuple[str, str] | None) -> None:
    ctx = execute([None, api(inbound=f'<ip-filter action="{action}">{RANGE}<address>192.0.2.1</address></ip-filter>')],
                  client_ip=ip, **URL)
    if error is None:
        assert ctx.response_status == 200
        return
    reason, message = error[0], error[1].format(ip)
    assert (ctx.response_status, ctx.last_error_reason, ctx.last_error_message) == (403, reason, message)
    assert ctx.last_error_source == "ip-filter" and body_json(ctx)["message"] == message


@pytest.mark.parametrize(("ip", "status"), [("192.0.2.7", 403), ("10.0.0.2", 200), ("192.0.2.8", 200)])
def test_action_and_address_take_expressions(ip: str, status: int) -> None:
    xml = ('<ip-filter action="@(&quot;Forbid&quot;)"><address>@(&quot;192.0.2.&quot; + 7)</address>'
           '<address>192.0.2.1</address></ip-filter>')
    assert execute([None, api(inbound=xml)], client_ip=ip, **URL).response_status == status


@pytest.mark.parametrize("xml", [
    f'<ip-filter action="@(&quot;deny&quot;)">{RANGE}</ip-filter>',
    '<ip-filter action="allow"><address>@(&quot;10.0.0.300&quot;)</address></ip-filter>',
])
def test_an_expression_with_a_bad_value_fails_the_request(xml: str) -> None:
    ctx = execute([None, api(inbound=xml)], client_ip="10.0.0.2", **URL)
    assert (ctx.response_status, ctx.last_error_reason) == (500, "ExpressionValueEvaluationFailure")
