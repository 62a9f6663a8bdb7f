"""<cors>: preflights answered, CORS headers on responses for allowed origins."""

from __future__ import annotations

import pytest
from toolkit.emulator.policy.handlers.cors import normal_origin

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


def cors(origins: str = "<origin>https://app.example</origin>", attributes: str = "", methods: str = "") -> str:
    return f"<cors {attributes}><allowed-origins>{origins}</allowed-origins>{methods}</cors>"


@pytest.mark.parametrize(("method", "answered"), [("GET", True), ("POST", True), ("PUT", False)])
def test_without_allowed_methods_get_and_post_are_allowed(method: str, answered: bool) -> None:
    ctx = execute([None, api(inbound=cors())], method="OPTIONS", headers=preflight("https://app.example", method, ""),
                  **URL)
    assert (ctx.response_headers.get("Access-Control-Allow-Methods") == method) is answered


@pytest.mark.parametrize(("configured", "sent", "matched"), [
    ("http://localhost:8080/", "http://localhost:8080", True),
    ("https://App.Example", "https://app.example", True),
    ("https://app.example", "https://app.example:443", True),
    ("https://app.example:443/", "https://APP.example", True),
    ("http://app.example", "http://app.example:80", True),
    ("http://app.example", "https://app.example", False),
    ("https://app.example:8443", "https://app.example", False),
    ("https://app.example", "null", False),
])
def test_origins_compare_as_scheme_host_and_port(configured: str, sent: str, matched: bool) -> None:
    ctx = execute([None, api(inbound=cors(f"<origin>{configured}</origin>"))], method="OPTIONS",
                  headers=preflight(sent, "GET", ""), **URL)
    assert ctx.response_headers.get("Access-Control-Allow-Origin") == (sent if matched else None)
    simple = execute([None, api(inbound=cors(f"<origin>{configured}</origin>"))], method="POST",
                     headers=[("Origin", sent)], **URL)
    assert simple.response_headers.get("Access-Control-Allow-Origin") == (sent if matched else None)


@pytest.mark.parametrize("origin", ["https://*.example.com", "https://app.example/path", "app.example",
                                    "https://app.example?x=1", "https://user@app.example", "https://app.example:99999"])
def test_origins_must_be_scheme_host_and_port(origin: str) -> None:
    error = rejected(document(inbound=cors(f"<origin>{origin}</origin>")))
    assert "Origin must be a valid URL consisting of scheme, host, and port only" in str(error)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_an_unmatched_get_or_head_ends_with_an_empty_200(method: str) -> None:
    services = FakeServices()
    ctx = execute([None, api(inbound=cors())], services, method=method, headers=[("Origin", "https://evil.example")],
                  **URL)
    assert (ctx.response_status, ctx.response_body, services.calls) == (200, b"", [])
    assert ctx.response_headers.get("Access-Control-Allow-Origin") is None


@pytest.mark.parametrize(("method", "terminate"), [("POST", "true"), ("GET", "false")])
def test_other_unmatched_requests_go_on(method: str, terminate: str) -> None:
    services = FakeServices()
    execute([None, api(inbound=cors(attributes=f'terminate-unmatched-request="{terminate}"'))], services,
            method=method, headers=[("Origin", "https://evil.example")], **URL)
    assert len(services.calls) == 1


def test_the_switches_take_expressions() -> None:
    xml = cors(attributes='allow-credentials="@(context.Request.Headers.ContainsKey(&quot;x-cred&quot;))" '
                          'terminate-unmatched-request="@(false)"',
               methods='<allowed-methods preflight-result-max-age="@(60 * 2)"><method>GET</method></allowed-methods>')
    chain = [None, api(inbound=xml)]
    ctx = execute(chain, method="OPTIONS", headers=[*preflight("https://app.example", "GET", ""), ("x-cred", "1")],
                  **URL)
    assert ctx.response_headers.get("Access-Control-Allow-Credentials") == "true"
    assert ctx.response_headers.get("Access-Control-Max-Age") == "120"
    plain = execute(chain, method="OPTIONS", headers=preflight("https://app.example", "GET", ""), **URL)
    assert plain.response_headers.get("Access-Control-Allow-Credentials") is None
    services = FakeServices()
    execute(chain, services, method="GET", headers=[("Origin", "https://evil.example")], **URL)
    assert len(services.calls) == 1  # terminate-unmatched-request evaluated to false


@pytest.mark.parametrize("xml", [
    cors(methods='<allowed-methods preflight-result-max-age="@(-1)"><method>GET</method></allowed-methods>'),
    cors("<origin>*</origin>", attributes='allow-credentials="@(true)"'),
])
def test_an_expression_with_a_bad_value_fails_the_request(xml: str) -> None:
    ctx = execute([None, api(inbound=xml)], method="OPTIONS", headers=preflight("https://app.example", "GET", ""),
                  **URL)
    assert (ctx.response_status, ctx.last_error_reason) == (500, "ExpressionValueEvaluationFailure")


def test_an_unmatched_preflight_ends_unless_terminate_unmatched_request_is_false() -> None:
    services = FakeServices()
    ended = execute([None, api(inbound=cors())], services, method="OPTIONS",
                    headers=preflight("https://evil.example", "GET", ""), **URL)
    assert (ended.response_status, ended.response_reason, ended.response_body, services.calls) == (200, "OK", b"", [])
    execute([None, api(inbound=cors(attributes='terminate-unmatched-request="false"'))], services, method="OPTIONS",
            headers=preflight("https://evil.example", "GET", ""), **URL)
    assert len(services.calls) == 1  # went on to the backend


def test_an_allowed_preflight_has_an_empty_body() -> None:
    ctx = execute([None, api(inbound=CORS)], method="OPTIONS", headers=preflight("https://app.example"), **URL)
    assert (ctx.response_reason, ctx.response_body) == ("OK", b"")


def test_requested_headers_are_checked_one_by_one_and_echoed() -> None:
    listed = execute([None, api(inbound=CORS)], method="OPTIONS",
                     headers=preflight("https://app.example", headers="content-type, api-key"), **URL)
    assert listed.response_headers.get("Access-Control-Allow-Headers") == "content-type, api-key"
    any_header = cors(methods="<allowed-methods><method>POST</method></allowed-methods>"
                              "<allowed-headers><header>*</header></allowed-headers>")
    ctx = execute([None, api(inbound=any_header)], method="OPTIONS",
                  headers=preflight("https://app.example", headers="x-a,x-b"), **URL)
    assert ctx.response_headers.get("Access-Control-Allow-Headers") == "x-a, x-b"


def test_a_request_other_than_options_is_no_preflight() -> None:
    services = FakeServices()
    ctx = execute([None, api(inbound=CORS)], services, method="POST", headers=preflight("https://app.example"), **URL)
    assert len(services.calls) == 1 and ctx.response_headers.get("Access-Control-Allow-Methods") is None
    assert ctx.response_headers.get("Access-Control-Allow-Origin") == "https://app.example"


def test_responses_to_a_wildcard_origin_without_credentials() -> None:
    xml = ("<cors><allowed-origins><origin>*</origin></allowed-origins>"
           "<expose-headers><header>x-a</header><header>x-b</header></expose-headers></cors>")
    ctx = execute([None, api(inbound=xml)], headers=[("Origin", "https://any.example")], **URL)
    headers = ctx.response_headers
    assert headers.get("Access-Control-Allow-Origin") == "*"
    assert headers.get("Access-Control-Expose-Headers") == "x-a, x-b"
    assert headers.get("Access-Control-Allow-Credentials") is None  # allow-credentials defaults to false


def test_a_max_age_of_zero_is_allowed() -> None:
    xml = cors(methods='<allowed-methods preflight-result-max-age="0"><method>GET</method></allowed-methods>')
    ctx = execute([None, api(inbound=xml)], method="OPTIONS", headers=preflight("https://app.example", "GET", ""), **URL)
    assert ctx.response_headers.get("Access-Control-Max-Age") == "0"


@pytest.mark.parametrize(("origin", "accepted"), [
    ("http://app.example:0", False), ("http://app.example:1", True), ("http://app.example:65535", True),
    ("http://app.example:65536", False),
])
def test_an_origins_port_is_1_to_65535(origin: str, accepted: bool) -> None:
    xml = document(inbound=cors(f"<origin>{origin}</origin>"))
    if accepted:
        api(inbound=cors(f"<origin>{origin}</origin>"))
    else:
        assert "Origin must be a valid URL" in str(rejected(xml))


def test_credentials_that_evaluate_to_true_with_a_wildcard_origin_fail_naming_the_rule() -> None:
    xml = cors("<origin>*</origin>", attributes='allow-credentials="@(true)"')
    ctx = execute([None, api(inbound=xml)], headers=[("Origin", "https://app.example")], **URL)
    assert (ctx.response_status, ctx.last_error_source) == (500, "cors")
    assert "cannot be used with the wildcard origin" in ctx.last_error_message


@pytest.mark.parametrize(("xml", "message"), [
    ("<cors/>", "line 1: <cors> needs <allowed-origins> with at least one <origin>"),
    (cors(methods=""), None),
    ('<cors><allowed-origins preflight-result-max-age="5"><origin>https://a.example</origin></allowed-origins></cors>',
     "line 1: <allowed-origins> attribute 'preflight-result-max-age' is not supported (supported: none)"),
    ("<cors><allowed-origins><origin>https://a.example<x/></origin></allowed-origins></cors>",
     "line 1: <origin> may not contain child elements (found <x>)"),
    (cors().replace("</cors>", "<bogus/></cors>"),
     "line 1: <bogus> is not allowed inside <cors> (allowed: <allowed-headers>, <allowed-methods>, "
     "<allowed-origins>, <expose-headers>)"),
])
def test_refusals_name_the_element_and_the_rule(xml: str, message: str | None) -> None:
    if message is None:  # the well-formed one, for contrast
        api(inbound=xml)
    else:
        assert str(rejected(document(inbound=xml))) == message


@pytest.mark.parametrize(("origin", "normal"), [
    ("HTTPS://App.Example", "https://app.example:443"), ("http://[::1]:8080/", "http://[::1]:8080"),
    ("ftp://Files.Example", "ftp://files.example"),  # no default port known: none added
    ("wss://chat.example:9", "wss://chat.example:9"), ("https://app.example/x", None),
])
def test_an_origin_normalises_to_lower_case_scheme_host_and_port(origin: str, normal: str | None) -> None:
    assert normal_origin(origin) == normal


def test_preflights_and_ended_requests_are_traced() -> None:
    allowed = execute([None, api(inbound=CORS)], method="OPTIONS", headers=preflight("https://app.example"), **URL)
    refused = execute([None, api(inbound=CORS)], method="OPTIONS", headers=preflight("https://evil.example"), **URL)
    ended = execute([None, api(inbound=cors())], method="GET", headers=[("Origin", "https://evil.example")], **URL)
    assert [[e["message"] for e in ctx.trace.find("cors")] for ctx in (allowed, refused, ended)] == [
        ["preflight allowed"], ["preflight refused"], ["request from an unmatched origin ended"]]
    assert (ended.response_status, ended.response_reason) == (200, "OK")


def test_a_requested_header_with_no_allowed_headers_list_is_refused() -> None:
    ctx = execute([None, api(inbound=cors())], method="OPTIONS", headers=preflight("https://app.example", "GET", "x-a"),
                  **URL)
    assert ctx.response_status == 200 and ctx.response_headers.get("Access-Control-Allow-Origin") is None


ASKED = "context.Request.Headers.ContainsKey(&quot;x-asked&quot;)"  # a switch that depends on the request


@pytest.mark.parametrize("method", ["GET", "OPTIONS"])
def test_terminate_unmatched_request_is_evaluated_for_each_request(method: str) -> None:
    chain = [None, api(inbound=cors(attributes=f'terminate-unmatched-request="@({ASKED})"'))]
    headers = preflight("https://evil.example", "GET", "") if method == "OPTIONS" else [("Origin", "https://evil.example")]
    services = FakeServices()
    ended = execute(chain, services, method=method, headers=[*headers, ("x-asked", "1")], **URL)
    assert (ended.response_status, ended.response_body, services.calls) == (200, b"", [])
    execute(chain, services, method=method, headers=headers, **URL)
    assert len(services.calls) == 1  # went on to the backend


def test_allow_credentials_is_evaluated_for_each_simple_request() -> None:
    chain = [None, api(inbound=cors(attributes=f'allow-credentials="@({ASKED})"'))]
    asked = execute(chain, headers=[("Origin", "https://app.example"), ("x-asked", "1")], **URL)
    assert asked.response_headers.get("Access-Control-Allow-Credentials") == "true"
    assert asked.response_headers.get("Access-Control-Allow-Origin") == "https://app.example"
    plain = execute(chain, headers=[("Origin", "https://app.example")], **URL)
    assert plain.response_headers.get("Access-Control-Allow-Credentials") is None


def test_a_max_age_expression_is_evaluated_for_each_preflight_and_its_failure_names_cors() -> None:
    age = "int.Parse(context.Request.Headers.GetValueOrDefault(&quot;x-age&quot;, &quot;60&quot;))"
    chain = [None, api(inbound=cors(methods=f'<allowed-methods preflight-result-max-age="@({age})">'
                                            "<method>GET</method></allowed-methods>"))]
    asked = execute(chain, method="OPTIONS", headers=[*preflight("https://app.example", "GET", ""), ("x-age", "7")],
                    **URL)
    assert asked.response_headers.get("Access-Control-Max-Age") == "7"
    failed = execute(chain, method="OPTIONS", headers=[*preflight("https://app.example", "GET", ""), ("x-age", "-1")],
                     **URL)
    assert (failed.response_status, failed.last_error_source) == (500, "cors")
