"""<set-body>: request body in inbound/backend, response body in outbound; refused in on-error."""

from __future__ import annotations

import pytest
from .policy_helpers import FakeServices, api, assert_sections, document, execute, rejected

URL = {"backend_url": "http://backend.test"}


def test_sections() -> None:
    assert_sections("<set-body>x</set-body>", ("inbound", "backend", "outbound"))


@pytest.mark.parametrize(("xml", "message"), [
    ('<set-body template="liquid">{{body.x}}</set-body>', "the local emulator does not support attribute 'template' of <set-body> (APIM does)"),
    ("<set-body><b>bold</b></set-body>", "<set-body> may not contain child elements"),
    ("<set-body>@(context.Request.Bodyy.As&lt;string&gt;())</set-body>", "<set-body> text"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


def test_inbound_replaces_the_forwarded_body_and_its_parsed_json() -> None:
    services = FakeServices()
    policy = api(inbound='<set-body>{"messages": []}</set-body>')
    ctx = execute([None, policy], services, **URL)
    assert services.calls[0]["body"] == b'{"messages": []}'
    assert ctx.request_json() == {"messages": []}


def test_outbound_replaces_the_response_body_with_an_expression_value() -> None:
    ctx = execute([None, api(outbound="<set-body>@(&quot;status &quot; + context.Response.StatusCode)</set-body>")],
                  **URL)
    assert ctx.response_body == b"status 200"
