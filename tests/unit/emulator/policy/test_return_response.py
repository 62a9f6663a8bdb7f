"""<return-response>: a new response shaped by its children; ends the request."""

from __future__ import annotations

import pytest
from .policy_helpers import FakeServices, api, assert_sections, document, execute, rejected

from toolkit.emulator.policy.registry import SECTIONS

URL = {"backend_url": "http://backend.test"}


def test_sections() -> None:
    assert_sections("<return-response/>", SECTIONS)


@pytest.mark.parametrize(("xml", "message"), [
    ("<return-response><forward-request/></return-response>", "<forward-request> is not allowed inside <return-response>"),
    ('<return-response><set-status code="1000" reason="x"/></return-response>', "1000 is outside"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


def test_children_act_on_the_new_response_in_any_section() -> None:
    # set-body is not allowed in on-error by itself, but is inside return-response.
    policy = api(on_error='<return-response><set-status code="429" reason="Busy"/>'
                          '<set-header name="Retry-After" exists-action="override"><value>7</value></set-header>'
                          '<set-body>{"error": "busy"}</set-body></return-response>')
    ctx = execute([None, policy])
    assert (ctx.response_status, ctx.response_reason) == (429, "Busy")
    assert ctx.response_headers.to_dict() == {"retry-after": "7"}
    assert ctx.response_body == b'{"error": "busy"}'


def test_default_is_200_without_body_and_nothing_after_it_runs() -> None:
    services = FakeServices()
    policy = api(inbound='<return-response/><set-variable name="after" value="1"/>',
                 outbound='<set-header name="x-out" exists-action="override"><value>1</value></set-header>')
    ctx = execute([None, policy], services, **URL)
    assert (ctx.response_status, ctx.response_reason, ctx.response_body) == (200, "OK", b"")
    assert services.calls == [] and "after" not in ctx.variables and len(ctx.response_headers) == 0


def test_in_outbound_it_replaces_the_backend_response() -> None:
    ctx = execute([None, api(outbound='<return-response><set-body>replaced</set-body></return-response>')], **URL)
    assert (ctx.response_status, ctx.response_body) == (200, b"replaced")
    assert "content-type" not in ctx.response_headers
