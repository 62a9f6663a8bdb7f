"""<mock-response>: answer without the backend."""

from __future__ import annotations

import pytest
from .policy_helpers import FakeServices, api, assert_sections, document, execute, rejected


def test_sections() -> None:
    assert_sections('<mock-response status-code="200"/>', ("inbound", "outbound", "on-error"))


@pytest.mark.parametrize(("xml", "message"), [
    ('<mock-response status-code="99"/>', "outside the allowed range"),
    ('<mock-response status-code="ok"/>', "is not an integer"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


def test_the_backend_is_skipped() -> None:
    services = FakeServices()
    ctx = execute([None, api(inbound='<mock-response status-code="201" content-type="application/json"/>',
                             outbound='<set-header name="x-out"><value>1</value></set-header>')], services,
                  backend_url="http://backend.test")
    assert (ctx.response_status, ctx.response_headers.get("content-type"), ctx.response_body) == (
        201, "application/json", b"")
    assert services.calls == [] and ctx.response_headers.get("x-out") is None
