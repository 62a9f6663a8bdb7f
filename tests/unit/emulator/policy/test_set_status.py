"""<set-status>: code 100-599 and a reason; changes the current response."""

from __future__ import annotations

import pytest
from .policy_helpers import FakeServices, api, assert_sections, document, execute, rejected

from toolkit.emulator.policy import BackendConnectionFailure
from toolkit.emulator.policy.registry import SECTIONS

URL = {"backend_url": "http://backend.test"}


def test_sections() -> None:
    assert_sections('<set-status code="200" reason="OK"/>', SECTIONS)


@pytest.mark.parametrize(("xml", "message"), [
    ('<set-status reason="x"/>', "missing the required attribute 'code'"),
    ('<set-status code="99" reason="x"/>', "99 is outside the allowed range 100-599"),
    ('<set-status code="600" reason="x"/>', "600 is outside"),
    ('<set-status code="OK" reason="x"/>', "'OK' is not an integer"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(outbound=xml)))


def test_outbound_changes_the_backend_status() -> None:
    ctx = execute([None, api(outbound='<set-status code="203" reason="Rewritten"/>')], **URL)
    assert (ctx.response_status, ctx.response_reason) == (203, "Rewritten")


def test_on_error_rewrites_the_default_error_response() -> None:
    services = FakeServices(answers=[BackendConnectionFailure("refused")])
    policy = api(on_error='<set-status code="@(context.Response.StatusCode + 2)" reason="Gateway"/>')
    ctx = execute([None, policy], services, **URL)
    assert (ctx.response_status, ctx.response_reason) == (502, "Gateway")


def test_without_reason_the_standard_phrase_is_used() -> None:
    ctx = execute([None, api(outbound='<set-status code="404"/>')], **URL)
    assert (ctx.response_status, ctx.response_reason) == (404, "Not Found")
