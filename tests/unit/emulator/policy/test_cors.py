"""<cors>: preflights answered, CORS headers on responses for allowed origins."""

from __future__ import annotations

import pytest
from .policy_helpers import FakeServices, api, assert_sections, document, execute, rejected

URL = {"backend_url": "http://backend.test"}
CORS = ('<cors allow-credentials="true"><allowed-origins><origin>https://app.example</origin></allowed-origins>'
        '<allowed-methods preflight-result-max-age="300"><method>POST</method></allowed-methods>'
        '<allowed-headers><header>content-type</header><header>api-key</header></allowed-headers>'
        '<expose-headers><header>x-ms-region</header></expose-headers></cors>')


def test_sections() -> None:
    assert_sections(CORS, ("inbound",))


@pytest.mark.parametrize(("xml", "message"), [
    ("<cors/>", "needs <allowed-origins>"),
    ('<cors allow-credentials="true"><allowed-origins><origin>*</origin></allowed-origins></cors>', "wildcard"),
    ("<cors><allowed-origins><host>x</host></allowed-origins></cors>", "<host> is not allowed inside"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


def preflight(origin: str, method: str = "POST", headers: str = "content-type") -> list[tuple[str, str]]:
    return [("Origin", origin), ("Access-Control-Request-Method", method), ("Access-Control-Request-Headers", headers)]


def test_an_allowed_preflight_is_answered_without_the_backend() -> None:
    services = FakeServices()
    ctx = execute([None, api(inbound=CORS)], services, method="OPTIONS", headers=preflight("https://app.example"), **URL)
    assert ctx.response_status == 200 and services.calls == []
    headers = ctx.response_headers
    assert headers.get("Access-Control-Allow-Origin") == "https://app.example"
    assert (headers.get("Access-Control-Allow-Methods"), headers.get("Access-Control-Max-Age")) == ("POST", "300")
    assert headers.get("Access-Control-Allow-Credentials") == "true"


@pytest.mark.parametrize("request_headers", [
    preflight("https://evil.example"), preflight("https://app.example", method="DELETE"),
    preflight("https://app.example", headers="x-secret"),
])
def test_an_unmatched_preflight_gets_no_cors_headers(request_headers: list[tuple[str, str]]) -> None:
    ctx = execute([None, api(inbound=CORS)], method="OPTIONS", headers=request_headers, **URL)
    assert ctx.response_status == 200 and ctx.response_headers.get("Access-Control-Allow-Origin") is None


def test_simple_requests_from_allowed_origins_get_the_headers() -> None:
    ctx = execute([None, api(inbound=CORS)], headers=[("Origin", "https://app.example")], **URL)
    assert ctx.response_headers.get("Access-Control-Allow-Origin") == "https://app.example"
    assert ctx.response_headers.get("Access-Control-Expose-Headers") == "x-ms-region"
    other = execute([None, api(inbound=CORS)], headers=[("Origin", "https://evil.example")], **URL)
    assert other.response_headers.get("Access-Control-Allow-Origin") is None
