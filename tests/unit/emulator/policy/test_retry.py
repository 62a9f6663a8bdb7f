"""<retry>: attempt counts, waits, pool re-selection per attempt, breaker trips mid-retry."""

from __future__ import annotations

import httpx
import pytest
from .policy_helpers import NOW, FakeServices, api, assert_sections, document, execute, make_ctx, rejected, run

from toolkit.emulator.policy import BackendConnectionFailure, run_pipeline
from toolkit.emulator.policy.default_services import DefaultGatewayServices
from toolkit.emulator.policy.registry import SECTIONS

ON_429 = "@(context.Response.StatusCode == 429)"
URL = {"backend_url": "http://backend.test"}


def _retry(attributes: str, body: str = '<forward-request buffer-request-body="true"/>') -> str:
    return f"<retry {attributes}>{body}</retry>"


def test_sections() -> None:
    assert_sections(_retry('condition="true" count="1" interval="0"', "<set-variable name='a' value='1'/>"), SECTIONS)


@pytest.mark.parametrize(("attributes", "message"), [
    ('count="1" interval="0"', "missing the required attribute 'condition'"),
    (f'condition="{ON_429}" interval="0"', "missing the required attribute 'count'"),
    (f'condition="{ON_429}" count="0" interval="0"', "'count': 0 is outside the allowed range 1-50"),
    (f'condition="{ON_429}" count="51" interval="0"', "'count': 51 is outside the allowed range 1-50"),
    (f'condition="{ON_429}" count="two" interval="0"', "'count': 'two' is not an integer"),
    (f'condition="{ON_429}" count="1" interval="-1"', "'interval': -1 is outside"),
    (f'condition="{ON_429}" count="1" interval="0" delta="x"', "'delta': 'x' is not an integer"),
    ('condition="maybe" count="1" interval="0"', "'condition': 'maybe' is not true or false"),
    ('condition="@(context.Response.StatusCode)" count="1" interval="0"', "needs a bool expression"),
    ('condition="@(context.Response.Bodyy != null)" count="1" interval="0"', "context.Response.Bodyy"),
    (f'condition="{ON_429}" count="1" interval="0" first-fast-retry="soon"', "'soon' is not true or false"),
    (f'condition="{ON_429}" count="1" interval="0" first-fast-retry="@(1)"', "needs a bool expression"),
])
def test_refusals(attributes: str, message: str) -> None:
    error = rejected(document(backend=_retry(attributes)))
    assert message in str(error) and "<retry>" in str(error)


def test_a_wait_directly_in_retry_is_refused_as_apim_refuses_it() -> None:
    """retry-policy.md: retry "may contain any other policies as its child elements, except for wait policy";
    found by an audit: it was accepted at publish."""
    body = '<wait for="all"><set-variable name="a" value="1"/></wait><forward-request buffer-request-body="true"/>'
    error = rejected(document(backend=_retry(f'condition="{ON_429}" count="1" interval="0"', body)))
    assert "<retry> may contain any policy except <wait>" in str(error)


def test_children_are_checked_against_the_section() -> None:
    error = rejected(document(inbound=_retry('condition="true" count="1" interval="0"')))
    assert "<forward-request> is not allowed in the inbound section" in str(error)


@pytest.mark.parametrize(("answers", "count", "attempts", "final"), [
    ([429, 429, 200], 2, 3, 200),
    ([429, 429, 429, 429], 2, 3, 429),
    ([200, 429], 3, 1, 200),
    ([429, 200], 50, 2, 200),
])
def test_attempts(answers: list[int], count: int, attempts: int, final: int) -> None:
    services = FakeServices(answers=answers)
    ctx = execute([None, api(backend=_retry(f'condition="{ON_429}" count="{count}" interval="0"'))], services, **URL)
    assert len(services.calls) == attempts
    assert ctx.response_status == final
    assert [e["data"]["attempt"] for e in ctx.trace.find("forward-request")] == list(range(1, attempts + 1))


def _waits(attributes: str, count: int = 3) -> list[float]:
    services = FakeServices(answers=[429] * (count + 1))
    ctx = execute([None, api(backend=_retry(f'condition="{ON_429}" count="{count}" {attributes}'))], services, **URL)
    return [e["data"]["wait_seconds"] for e in ctx.trace.find("retry") if "wait_seconds" in e["data"]]


def test_fixed_linear_and_first_fast_waits() -> None:
    assert _waits('interval="2"') == [2, 2, 2]
    assert _waits('interval="2" first-fast-retry="true"') == [0, 2, 2]
    assert _waits('interval="1" delta="2"') == [1, 3, 5]
    assert _waits('interval="1" delta="2" first-fast-retry="true"') == [0, 3, 5]


def test_first_fast_retry_takes_an_expression_evaluated_per_request() -> None:
    """retry-policy.md: first-fast-retry "Policy expressions are allowed"."""
    fast = 'interval="2" first-fast-retry="@(context.Request.Headers.GetValueOrDefault(&quot;x-fast&quot;, &quot;&quot;) == &quot;1&quot;)"'
    assert _waits(fast) == [2, 2, 2]
    services = FakeServices(answers=[429] * 4)
    ctx = execute([None, api(backend=_retry(f'condition="{ON_429}" count="3" {fast}'))], services,
                  headers=[("x-fast", "1")], **URL)
    assert [e["data"]["wait_seconds"] for e in ctx.trace.find("retry") if "wait_seconds" in e["data"]] == [0, 2, 2]


def test_exponential_waits_follow_the_documented_formula_and_cap() -> None:
    waits = _waits('interval="10" delta="10" max-interval="100"', count=5)
    assert waits[0] == 10
    bounds = [(18, 22), (34, 46), (66, 94)]  # 10 + (2^(n-1) - 1) * [8, 12]
    for wait, (low, high) in zip(waits[1:4], bounds):
        assert low <= wait <= high
    assert waits[4] == 100


def test_waits_use_the_services_sleep() -> None:
    services = FakeServices(answers=[429, 429, 200])
    execute([None, api(backend=_retry(f'condition="{ON_429}" count="2" interval="3"'))], services, **URL)
    assert services.sleeps == [3, 3]


def test_errors_from_the_children_are_not_retried() -> None:
    services = FakeServices(answers=[BackendConnectionFailure("refused"), 200])
    ctx = execute([None, api(backend=_retry('condition="true" count="3" interval="0"'))], services, **URL)
    assert len(services.calls) == 1 and ctx.response_status == 500


def test_count_from_an_expression_is_checked_when_evaluated() -> None:
    policy = api(inbound='<set-variable name="n" value="@(60)"/>',
                 backend=_retry(f'condition="{ON_429}" count="@((int)context.Variables[&quot;n&quot;])" interval="0"'))
    ctx = execute([None, policy], FakeServices(answers=[429]), **URL)
    assert ctx.response_status == 500 and "outside 1..50" in ctx.last_error_message


# -- pools and breakers, through DefaultGatewayServices and real HTTP mocking ----------------------

def _backend(url: str, count: int = 3) -> dict:
    return {"properties": {"type": "Single", "url": url, "protocol": "http", "circuitBreaker": {"rules": [{
        "name": "r", "failureCondition": {"count": count, "interval": "PT5M",
                                          "statusCodeRanges": [{"min": 429, "max": 429}]},
        "tripDuration": "PT1M", "acceptRetryAfter": False}]}}}


def _pool(*members: tuple[str, int, int]) -> dict:
    return {"properties": {"type": "Pool", "pool": {"services": [
        {"id": f"/backends/{name}", "priority": priority, "weight": weight} for name, priority, weight in members]}}}


class _Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def _gateway(status_by_host: dict[str, int], backends: dict[str, dict], hits: list[str]):
    def answer(request: httpx.Request) -> httpx.Response:
        hits.append(request.url.host)
        status = status_by_host[request.url.host]
        return httpx.Response(status, json={"host": request.url.host})

    clock = _Clock()
    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    services = DefaultGatewayServices(client, backends=backends, clock=clock)
    return services, clock


def _request(services, policy):
    ctx = make_ctx(headers=[("api-key", "k")])
    run(run_pipeline([None, policy], ctx, services))
    return ctx


def test_breaker_trips_mid_retry_and_the_next_attempt_lands_on_priority_2() -> None:
    hits: list[str] = []
    backends = {
        "eastus": _backend("http://eastus.test"),
        "westus": _backend("http://westus.test"),
        "pool": _pool(("eastus", 1, 100), ("westus", 2, 100)),
    }
    services, _ = _gateway({"eastus.test": 429, "westus.test": 200}, backends, hits)
    policy = api(inbound='<set-backend-service backend-id="pool"/>',
                 backend=_retry(f'condition="{ON_429}" count="3" interval="0" first-fast-retry="true"'))
    first = _request(services, policy)
    assert hits == ["eastus.test"] * 3 + ["westus.test"]  # bosma: X-Attempt-Count 4
    assert first.response_status == 200 and first.selected_backend == "westus"
    assert first.trace.find("forward-request")[2]["data"]["breaker"]["tripped"] is True
    hits.clear()
    later = _request(services, policy)
    assert hits == ["westus.test"] and later.forward_count == 1


def test_each_attempt_reselects_from_the_pool() -> None:
    hits: list[str] = []
    backends = {"a": _backend("http://a.test", count=1), "b": _backend("http://b.test", count=1),
                "c": _backend("http://c.test", count=1), "pool": _pool(("a", 1, 50), ("b", 1, 50), ("c", 2, 100))}
    services, _ = _gateway({"a.test": 429, "b.test": 429, "c.test": 200}, backends, hits)
    policy = api(inbound='<set-backend-service backend-id="pool"/>',
                 backend=_retry(f'condition="{ON_429}" count="2" interval="0"'))
    ctx = _request(services, policy)
    assert sorted(hits[:2]) == ["a.test", "b.test"] and hits[2] == "c.test"
    assert ctx.response_status == 200


def test_pool_exhausted_mid_retry_answers_503() -> None:
    hits: list[str] = []
    backends = {"a": _backend("http://a.test", count=1), "pool": _pool(("a", 1, 100))}
    services, clock = _gateway({"a.test": 429}, backends, hits)
    policy = api(inbound='<set-backend-service backend-id="pool"/>',
                 backend=_retry(f'condition="{ON_429}" count="2" interval="0"'))
    ctx = _request(services, policy)
    assert hits == ["a.test"]
    assert (ctx.response_status, ctx.last_error_reason) == (503, "BackendUnavailable")
    clock.now += 61  # tripDuration PT1M over: the member serves again
    assert _request(services, policy).forward_count >= 1 and hits[-1] == "a.test"
