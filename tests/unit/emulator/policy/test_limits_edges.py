"""The four limit policies (toolkit/emulator/policy/limits.py) at their edges: what their traces say, messages
naming the policy, expressions evaluated for each request (and their failures naming the policy), quota-by-key's
once-per-request count across keys, a lifetime quota's refusal, and first-period-start without an offset."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from .policy_helpers import NOW, FakeServices, api, document, execute, product, rejected

URL = {"backend_url": "http://backend.test"}
# An integer read from the request's x-n header (default 1): expressions that depend on the request.
N = "@(int.Parse(context.Request.Headers.GetValueOrDefault(&quot;x-n&quot;, &quot;1&quot;)))"


def _n(value: int) -> dict[str, object]:
    return {"headers": [("x-n", str(value))], **URL}


@pytest.mark.parametrize("tag", ["rate-limit", "rate-limit-by-key"])
def test_a_rate_limit_without_calls_is_refused_naming_itself(tag: str) -> None:
    key = ' counter-key="k"' if tag.endswith("by-key") else ""
    error = rejected(document(inbound=f'<{tag} renewal-period="60"{key}/>'))
    assert str(error) == f"line 1: <{tag}> is missing the required attribute 'calls'"


def test_allowed_refused_and_not_applied_calls_are_traced() -> None:
    services = FakeServices()
    policy = api(inbound='<rate-limit calls="1" renewal-period="60"/>')
    allowed, refused = (execute([None, policy], services, **URL) for _ in range(2))
    skipped = execute([None, policy], services, subscription_id=None, **URL)
    assert [(e["message"], e["data"]) for e in allowed.trace.find("rate-limit")] == [
        ("allowed", {"calls": 1, "limit": 1})]
    assert [(e["message"], e["data"]) for e in refused.trace.find("rate-limit")] == [
        ("refused", {"calls": 1, "limit": 1, "retry_after": 60})]
    assert [e["message"] for e in skipped.trace.find("rate-limit")] == [
        "not applied: the call was made without a subscription key"]


def test_calls_by_key_may_be_an_expression_evaluated_for_each_request() -> None:
    services = FakeServices()
    policy = api(inbound=f'<rate-limit-by-key calls="{N}" renewal-period="60" counter-key="k"/>')
    assert execute([None, policy], services, **_n(1)).response_status == 200
    assert execute([None, policy], services, **_n(1)).response_status == 429  # 1 call counted: the limit is 1
    assert execute([None, policy], services, **_n(2)).response_status == 200  # the same count, a limit of 2


@pytest.mark.parametrize(("tag", "attribute"), [("rate-limit-by-key", "calls"), ("rate-limit-by-key", "renewal-period"),
                                              ("rate-limit-by-key", "increment-count"), ("quota-by-key", "increment-count")])
def test_a_failed_expression_names_the_policy(tag: str, attribute: str) -> None:
    values = {"calls": "5", "renewal-period": "60" if tag == "rate-limit-by-key" else "300", "increment-count": "1",
              attribute: N}
    attributes = " ".join(f'{name}="{value}"' for name, value in values.items())
    policy = api(inbound=f'<{tag} {attributes} counter-key="k"/>')
    failed = execute([None, policy], **_n(-1 if attribute == "calls" else 0))  # below each one's minimum
    assert (failed.response_status, failed.last_error_source) == (500, tag)
    assert f"attribute '{attribute}' evaluated to" in failed.last_error_message


@pytest.mark.parametrize("tag", ["rate-limit-by-key", "quota-by-key"])
def test_increment_count_is_evaluated_for_each_request(tag: str) -> None:
    services = FakeServices()
    policy = api(inbound=f'<{tag} calls="5" renewal-period="300" counter-key="k" increment-count="{N}"/>')
    assert execute([None, policy], services, **_n(4)).response_status == 200
    assert execute([None, policy], services, **_n(1)).response_status == 200  # 4 + 1: the limit reached
    assert execute([None, policy], services, **_n(1)).response_status in (429, 403)


def test_an_increment_count_of_one_is_allowed_and_zero_is_not() -> None:
    services = FakeServices()
    policy = api(inbound='<rate-limit-by-key calls="2" renewal-period="60" counter-key="k" increment-count="1"/>')
    assert [execute([None, policy], services, **URL).response_status for _ in range(3)] == [200, 200, 429]
    error = rejected(document(inbound='<rate-limit-by-key calls="2" renewal-period="60" counter-key="k" '
                                      'increment-count="0"/>'))
    assert "increment-count" in str(error)


def test_a_counter_key_must_be_a_string_expression() -> None:
    error = rejected(document(inbound='<rate-limit-by-key calls="2" renewal-period="60" counter-key="@(42)"/>'))
    assert "needs a string expression, but it produces int" in str(error)


def test_quota_by_key_counts_each_key_of_a_request_apart() -> None:
    # Two keys in one request: the second key's count starts from its own calls, not from the first key's.
    services = FakeServices()
    policy = api(inbound='<quota-by-key calls="100" renewal-period="300" counter-key="a"/>'
                         '<quota-by-key calls="1" renewal-period="300" counter-key="b"/>')
    first = execute([None, policy], services, **URL)
    assert [e["data"] for e in first.trace.find("quota-by-key")] == [{"calls": 1, "limit": 100}, {"calls": 1, "limit": 1}]
    refused = execute([None, policy], services, **URL)
    assert (refused.response_status, refused.last_error_source) == (403, "quota-by-key")


def test_a_lifetime_quota_refuses_without_a_renewal_time() -> None:
    services = FakeServices()
    policy = product(inbound='<quota calls="1" renewal-period="0"/>')
    execute([None, policy], services, **URL)
    refused = execute([None, policy], services, **URL)
    assert (refused.response_status, refused.last_error_source, refused.last_error_reason) == (
        403, "quota", "QuotaExceeded")
    assert refused.response_headers.get("Retry-After") is None


def _daily_quota_retry_after(start: str) -> str | None:
    """The Retry-After of a second call to a one-call daily quota-by-key whose periods start at ``start`` (a day:
    no time zone's offset is a whole number of them)."""
    services = FakeServices()
    policy = api(inbound=f'<quota-by-key calls="1" renewal-period="86400" counter-key="k" '
                         f'first-period-start="{start}"/>')
    execute([None, policy], services, **URL)
    return execute([None, policy], services, **URL).response_headers.get("Retry-After")


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "America/New_York"])
def test_a_first_period_start_without_an_offset_is_utc(machine_time_zone: Callable[[str], None], zone: str) -> None:
    machine_time_zone(zone)
    start = datetime.fromtimestamp(NOW - 50, UTC).replace(tzinfo=None).isoformat()  # no offset
    assert _daily_quota_retry_after(start) == str(86400 - 50)  # the period began 50 s ago, UTC


@pytest.mark.parametrize(("form", "shift"), [("%Y-%m-%dT%H:%M:%SZ", 0), ("%Y-%m-%dT%H:%M:%S+01:00", 3600)])
def test_a_first_period_start_with_an_offset_keeps_it(form: str, shift: int) -> None:
    start = datetime.fromtimestamp(NOW - 50 + shift, UTC).strftime(form)  # +01:00: an hour later on the clock
    assert _daily_quota_retry_after(start) == str(86400 - 50)


def test_a_rate_limit_sets_no_variable_unless_one_is_named() -> None:
    services = FakeServices()
    plain = execute([None, api(inbound='<rate-limit calls="5" renewal-period="60"/>')], services, **URL)
    named = execute([None, api(inbound='<rate-limit calls="5" renewal-period="60" '
                                       'remaining-calls-variable-name="left"/>')], services, **URL)
    assert plain.variables == {} and named.variables == {"left": 4}
