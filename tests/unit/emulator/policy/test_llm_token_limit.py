"""<llm-token-limit> (and its Azure OpenAI twin): budgets, 429/403, usage settlement, headers."""

from __future__ import annotations

import gzip
import json

import pytest
from .policy_helpers import FakeServices, api, assert_sections, chat_body, document, execute, rejected, response

URL = {"backend_url": "http://backend.test"}
NAMES = ("llm-token-limit", "azure-openai-token-limit")
# "What is climate change?": ceil(23/4) = 6 content tokens + 3 per message + 3 = 12 estimated.
ESTIMATE = 12


def _limit(name: str, **attributes: str) -> str:
    attributes = {"counter-key": "@(context.Subscription.Id)", "estimate-prompt-tokens": "true", **attributes}
    return f"<{name} " + " ".join(f'{k}="{v}"' for k, v in attributes.items()) + "/>"


@pytest.mark.parametrize("name", NAMES)
def test_sections(name: str) -> None:
    assert_sections(_limit(name, **{"tokens-per-minute": "10"}), ("inbound",))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("attributes", "message"), [
    ({}, "needs 'tokens-per-minute' or 'token-quota'"),
    ({"token-quota": "100"}, "needs 'token-quota' and 'token-quota-period' together"),
    ({"token-quota": "100", "token-quota-period": "Fortnightly"}, "'Fortnightly' is not one of Hourly"),
    ({"tokens-per-minute": "0"}, "'tokens-per-minute': 0 is outside"),
    ({"tokens-per-minute": "10", "estimate-prompt-tokens": "perhaps"}, "is not true or false"),
    ({"tokens-per-minute": "10", "token-quota": "@(5)", "token-quota-period": "Daily"}, "expressions are not allowed"),
    ({"tokens-per-minute": "10", "retry-after-header-name": ""}, "'retry-after-header-name' is empty"),
])
def test_refusals(name: str, attributes: dict[str, str], message: str) -> None:
    assert message in str(rejected(document(inbound=_limit(name, **attributes)))), message


@pytest.mark.parametrize("name", NAMES)
def test_refusals_name_the_element_and_the_attribute(name: str) -> None:
    assert f"line 1: <{name}> needs 'tokens-per-minute' or 'token-quota'" in str(rejected(document(
        inbound=_limit(name))))
    assert f"<{name}> attribute 'token-quota': 0 is outside the allowed range >= 1" in str(rejected(document(
        inbound=_limit(name, **{"token-quota": "0", "token-quota-period": "Daily"}))))
    assert "'counter-key': this attribute needs a string expression, but it produces int" in str(rejected(document(
        inbound=_limit(name, **{"counter-key": "@(42)", "tokens-per-minute": "5"}))))


@pytest.mark.parametrize("name", NAMES)
def test_tokens_per_minute_may_be_an_expression_evaluated_per_request(name: str) -> None:
    per_request = '@(context.Request.Method == &quot;POST&quot; ? 30 : 1)'
    policy = api(inbound=_limit(name, **{"tokens-per-minute": per_request, "remaining-tokens-header-name": "x-left"}))
    assert execute([None, policy], FakeServices(), **URL).response_headers.get("x-left") == "15"  # 30 - 15 used
    failed = execute([None, api(inbound=_limit(name, **{"tokens-per-minute": "@(0)"}))], FakeServices(), **URL)
    assert failed.response_status == 500 and failed.last_error_source == name  # out of range: the policy's failure


@pytest.mark.parametrize("name", NAMES)
def test_the_smallest_quota_is_one_token(name: str) -> None:
    ctx = execute([None, api(inbound=_limit(name, **{"token-quota": "1", "token-quota-period": "Daily"}))],
                  FakeServices(), **URL)
    assert ctx.response_status == 403  # 1 token is a valid quota; the 12-token estimate does not fit it


def test_required_attributes() -> None:
    error = rejected(document(inbound='<llm-token-limit tokens-per-minute="5" estimate-prompt-tokens="true"/>'))
    assert "missing the required attribute 'counter-key'" in str(error)
    error = rejected(document(inbound='<llm-token-limit counter-key="k" tokens-per-minute="5"/>'))
    assert "missing the required attribute 'estimate-prompt-tokens'" in str(error)


@pytest.mark.parametrize("name", NAMES)
def test_tokens_per_minute_admits_settles_usage_and_then_refuses_with_429(name: str) -> None:
    services = FakeServices()  # every backend answer uses 15 tokens
    policy = api(inbound=_limit(name, **{
        "tokens-per-minute": "30", "remaining-tokens-header-name": "x-remaining",
        "tokens-consumed-header-name": "x-consumed", "remaining-tokens-variable-name": "left",
    }))
    first = execute([None, policy], services, **URL)
    assert (first.response_headers.get("x-consumed"), first.response_headers.get("x-remaining")) == ("15", "15")
    assert first.variables["left"] == 15
    second = execute([None, policy], services, **URL)  # 15 used + 12 estimated fits 30
    assert second.response_status == 200 and second.response_headers.get("x-remaining") == "0"
    third = execute([None, policy], services, **URL)
    assert third.response_status == 429
    assert third.response_headers.get("retry-after") == "20"  # the minute window ends 20 s later
    assert third.last_error_reason == "TokenLimitExceeded" and third.last_error_source == name
    assert third.response_headers.get("x-remaining") == "0"
    assert len(services.calls) == 2
    other = execute([None, policy], services, subscription_id="sub-2", **URL)
    assert other.response_status == 200
    services.now += 20
    assert execute([None, policy], services, **URL).response_status == 200


@pytest.mark.parametrize("name", NAMES)
def test_an_estimate_that_does_not_fit_is_refused_before_the_backend(name: str) -> None:
    services = FakeServices()
    ctx = execute([None, api(inbound=_limit(name, **{"tokens-per-minute": str(ESTIMATE - 1)}))], services, **URL)
    assert ctx.response_status == 429 and services.calls == []
    fits = execute([None, api(inbound=_limit(name, **{"tokens-per-minute": str(ESTIMATE)}))], FakeServices(), **URL)
    assert fits.response_status == 200


def test_without_estimates_only_actual_usage_counts_so_a_request_may_overshoot() -> None:
    services = FakeServices()
    policy = api(inbound=_limit("llm-token-limit", **{"tokens-per-minute": "10", "estimate-prompt-tokens": "false"}))
    assert execute([None, policy], services, **URL).response_status == 200  # used 15 > 10
    assert execute([None, policy], services, **URL).response_status == 429


def test_quota_refuses_with_403_and_the_variables_are_set() -> None:
    services = FakeServices()
    policy = api(inbound=_limit("llm-token-limit", **{
        "token-quota": "20", "token-quota-period": "hourly", "retry-after-header-name": "x-retry",
        "retry-after-variable-name": "wait", "remaining-quota-tokens-header-name": "x-quota",
    }))
    first = execute([None, policy], services, **URL)
    assert first.response_headers.get("x-quota") == "5"
    refused = execute([None, policy], services, **URL)
    assert (refused.response_status, refused.last_error_reason) == (403, "TokenQuotaExceeded")
    assert refused.variables["wait"] == int(refused.response_headers.get("x-retry")) > 0
    assert "retry-after" not in refused.response_headers


def test_no_backend_answer_gives_the_reservation_back() -> None:
    services = FakeServices()
    policy = api(inbound=_limit("llm-token-limit", **{"tokens-per-minute": "20", "remaining-tokens-variable-name": "left"})
                 + "<return-response/>")
    for _ in range(3):
        ctx = execute([None, policy], services, **URL)
        assert ctx.response_status == 200 and ctx.variables["left"] == 20 - ESTIMATE


def test_error_answers_charge_nothing_and_usage_less_success_keeps_the_estimate() -> None:
    services = FakeServices(answers=[500, response(200, b"data: stream")])
    policy = api(inbound=_limit("llm-token-limit", **{"tokens-per-minute": "100",
                                                       "tokens-consumed-header-name": "x-consumed"}))
    assert execute([None, policy], services, **URL).response_headers.get("x-consumed") == "0"
    assert execute([None, policy], services, **URL).response_headers.get("x-consumed") == str(ESTIMATE)


def test_on_error_sees_the_429() -> None:
    policy = api(inbound=_limit("llm-token-limit", **{"tokens-per-minute": "1"}),
                 on_error='<choose><when condition="@(context.Response.StatusCode == 429)">'
                          '<set-header name="x-limited" exists-action="override"><value>yes</value></set-header>'
                          "</when></choose>")
    ctx = execute([None, policy], body=chat_body(("user", "a long enough question")), **URL)
    assert ctx.response_headers.get("x-limited") == "yes" and ctx.response_status == 429


def test_a_compressed_answer_is_charged_its_estimate_as_its_usage_cannot_be_read() -> None:
    """The gateway relays a compressed answer as it is (no decoding), so its usage is not readable."""
    packed = gzip.compress(json.dumps({"usage": {"total_tokens": 99}}).encode())
    services = FakeServices(answers=[response(200, packed, headers=[("content-encoding", "gzip")])])
    policy = api(inbound=_limit("llm-token-limit", **{"tokens-per-minute": "1000",
                                                       "tokens-consumed-header-name": "x-consumed"}))
    ctx = execute([None, policy], services, **URL)
    assert ctx.response_headers.get("x-consumed") == str(ESTIMATE) != "99"
    assert ctx.response_body == packed and ctx.response_headers.get("content-encoding") == "gzip"

