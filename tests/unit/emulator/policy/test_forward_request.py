"""<forward-request>: backend section only; timeouts, switches, breaker feeding, default errors."""

from __future__ import annotations

from .policy_helpers import FakeServices, api, assert_sections, document, execute, rejected, response

from toolkit.emulator.gateway.breaker import BreakerRule, CircuitBreaker
from toolkit.emulator.policy import BackendConnectionFailure, BackendTimeout, SingleBackend

URL = {"backend_url": "http://backend.test"}


def test_sections() -> None:
    assert_sections("<forward-request/>", ("backend",))


def test_refusals() -> None:
    both = rejected(document(backend='<forward-request timeout="1" timeout-ms="1000"/>'))
    assert "'timeout' or 'timeout-ms', not both" in str(both)
    assert "'soon' is not an integer" in str(rejected(document(backend='<forward-request timeout="soon"/>')))
    assert "outside the allowed range" in str(rejected(document(backend='<forward-request timeout="-1"/>')))
    version = rejected(document(backend='<forward-request http-version="3"/>'))
    assert "attribute 'http-version': '3' is not one of 1, 2, 2or1" in str(version)
    assert "is not true or false" in str(rejected(document(backend='<forward-request follow-redirects="yes"/>')))


def test_timeouts_and_redirects_reach_the_services() -> None:
    services = FakeServices()
    execute([None, api(backend='<forward-request timeout="20" follow-redirects="true"/>')], services, **URL)
    execute([None, api(backend='<forward-request timeout-ms="1500"/>')], services, **URL)
    execute([None, api(backend="<forward-request/>")], services, **URL)
    assert [c["timeout"] for c in services.calls] == [20.0, 1.5, 300.0]
    assert [c["follow_redirects"] for c in services.calls] == [True, False, False]


def test_the_backend_answer_becomes_the_response() -> None:
    services = FakeServices(answers=[response(201, {"ok": True}, headers=[("x-ms-region", "East US")])])
    ctx = execute([None, api(backend="<forward-request/>")], services, **URL)
    assert (ctx.response_status, ctx.response_headers.get("x-ms-region")) == (201, "East US")
    assert ctx.response_json() == {"ok": True}


def test_fail_on_error_status_code_runs_on_error_with_the_backend_response() -> None:
    policy = api(backend='<forward-request fail-on-error-status-code="true"/>',
                 on_error='<set-header name="x-reason" exists-action="override">'
                          "<value>@(context.LastError.Reason)</value></set-header>")
    ctx = execute([None, policy], FakeServices(answers=[response(502, {"error": "bad"})]), **URL)
    assert ctx.response_status == 502
    assert ctx.response_json() == {"error": "bad"}
    assert ctx.response_headers.get("x-reason") == "BackendErrorStatusCode"
    plain = execute([None, api(backend="<forward-request/>")], FakeServices(answers=[502]), **URL)
    assert plain.response_status == 502 and plain.last_error_reason is None


def test_a_resent_request_without_buffer_request_body_goes_out_empty() -> None:
    retry = '<retry condition="@(context.Response.StatusCode == 429)" count="1" interval="0">{}</retry>'
    unbuffered = FakeServices(answers=[429, 200])
    execute([None, api(backend=retry.format("<forward-request/>"))], unbuffered, **URL)
    assert unbuffered.calls[0]["body"] and unbuffered.calls[1]["body"] == b""
    buffered = FakeServices(answers=[429, 200])
    execute([None, api(backend=retry.format('<forward-request buffer-request-body="true"/>'))], buffered, **URL)
    assert buffered.calls[1]["body"] == buffered.calls[0]["body"] != b""


def test_a_retry_whose_forward_request_fails_on_error_status_never_resends() -> None:
    """apiops-apim-genai's retry-with-payg: the 429 goes to on-error, so its unbuffered body is never re-sent."""
    retry = ('<retry condition="@(context.Response.StatusCode == 429)" count="3" interval="0">'
             '<forward-request fail-on-error-status-code="true"/></retry>')
    services = FakeServices(answers=[429, 200])
    ctx = execute([None, api(backend=retry)], services, **URL)
    assert len(services.calls) == 1 and ctx.response_status == 429
    assert ctx.last_error_reason == "BackendErrorStatusCode"


def test_connection_failures_and_timeouts_go_to_on_error() -> None:
    refused = execute([None, api()], FakeServices(answers=[BackendConnectionFailure("no")]), **URL)
    assert (refused.response_status, refused.last_error_source) == (500, "forward-request")
    slow = execute([None, api()], FakeServices(answers=[BackendTimeout()]), **URL)
    assert (slow.response_status, slow.last_error_reason) == (500, "Timeout")


def _breaker(services: FakeServices, **failure: object) -> CircuitBreaker:
    rule = BreakerRule.from_arm({"rules": [{"name": "r", "tripDuration": "PT1M", "failureCondition": {
        "count": 1, "interval": "PT1M", **failure}}]})
    return CircuitBreaker(rule, services.clock)


def test_every_status_feeds_the_breaker_and_an_open_breaker_answers_503() -> None:
    services = FakeServices(answers=[response(429, headers=[("retry-after", "5")])])
    breaker = _breaker(services, statusCodeRanges=[{"min": 429, "max": 429}])
    services.backends["one"] = SingleBackend("one", "http://one.test", breaker)
    policy = api(inbound='<set-backend-service backend-id="one"/>')
    first = execute([None, policy], services)
    assert first.response_status == 429 and breaker.is_open()
    assert first.trace.find("forward-request")[0]["data"]["breaker"]["tripped"] is True
    second = execute([None, policy], services)
    assert (second.response_status, second.last_error_reason) == (503, "BackendUnavailable")
    assert len(services.calls) == 1
    services.now += 61
    assert execute([None, policy], services).response_status == 200


def test_connection_failures_trip_a_breaker_only_with_error_reasons() -> None:
    for reasons, tripped in (([], False), (["BackendConnectionFailure"], True)):
        services = FakeServices(answers=[BackendConnectionFailure("refused")])
        breaker = _breaker(services, statusCodeRanges=[{"min": 500, "max": 599}], errorReasons=reasons)
        services.backends["one"] = SingleBackend("one", "http://one.test", breaker)
        execute([None, api(inbound='<set-backend-service backend-id="one"/>')], services)
        assert breaker.is_open() is tripped
