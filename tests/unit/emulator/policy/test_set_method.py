"""<set-method>: the method the backend receives."""

from __future__ import annotations

import pytest
from .policy_helpers import FakeServices, api, assert_sections, document, execute, rejected


def test_sections() -> None:
    assert_sections("<set-method>GET</set-method>", ("inbound", "on-error"))


@pytest.mark.parametrize(("xml", "message"), [
    ("<set-method>GE T</set-method>", "is not an HTTP method"),
    ('<set-method x="1">GET</set-method>', "attribute 'x' is not supported"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


def test_the_backend_receives_the_new_method() -> None:
    services = FakeServices()
    execute([None, api(inbound="<set-method>get</set-method>")], services, backend_url="http://backend.test")
    assert services.calls[0]["method"] == "GET"


def test_an_expression_that_is_no_method_fails_the_request() -> None:
    ctx = execute([None, api(inbound="<set-method>@(&quot;a b&quot;)</set-method>")], backend_url="http://b.test")
    assert ctx.response_status == 500 and ctx.last_error_reason == "InvalidMethod"
