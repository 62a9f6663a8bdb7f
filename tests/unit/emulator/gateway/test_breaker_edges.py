"""BreakerRule edges found by mutation testing: stored types, refusals with their exact messages, a
fractional percentage, and Retry-After HTTP-dates with an offset."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from toolkit.emulator.gateway.breaker import BreakerRule, parse_retry_after
from toolkit.errors import ArtifactError


def _rule(**options) -> BreakerRule:
    return BreakerRule(interval_seconds=60, trip_seconds=60, **options)


def test_ranges_and_reasons_given_as_lists_are_stored_as_tuples() -> None:
    rule = _rule(count=1, status_ranges=[[429, 429], [500, 599]], error_reasons=["timeout"])
    assert rule.status_ranges == ((429, 429), (500, 599)) and isinstance(rule.status_ranges, tuple)
    assert rule.error_reasons == ("timeout",)
    assert hash(rule)  # frozen and hashable: lists would not be


@pytest.mark.parametrize(("options", "message"), [
    ({}, "circuit breaker rule needs a failure count or a percentage"),
    ({"count": 2.5}, "circuit breaker count must be a positive integer, got 2.5"),
    ({"count": 0}, "circuit breaker count must be a positive integer, got 0"),
    ({"percentage": 0}, "circuit breaker percentage must be in (0, 100], got 0"),
])
def test_refusals_have_their_exact_message(options: dict, message: str) -> None:
    with pytest.raises(ArtifactError) as info:
        _rule(**options)
    assert str(info.value) == message


def test_a_fractional_percentage_below_one_is_allowed() -> None:
    assert _rule(percentage=0.5).percentage == 0.5


def test_status_code_ranges_as_a_string_are_refused_as_not_a_list() -> None:
    document = {"rules": [{"name": "r", "failureCondition": {"count": 1, "interval": "PT1M",
                                                             "statusCodeRanges": "429-429"}, "tripDuration": "PT1M"}]}
    with pytest.raises(ArtifactError, match=r"statusCodeRanges must be a list$"):
        BreakerRule.from_arm({"circuitBreaker": document})


def test_retry_after_http_dates_keep_their_offset_and_a_bare_one_is_gmt() -> None:
    now = datetime(2015, 10, 21, 6, 0, tzinfo=timezone.utc).timestamp()
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 +0100", now) == pytest.approx(28 * 60)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 -0000", now) == pytest.approx(88 * 60)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now) == pytest.approx(88 * 60)


# -- the breaker's window (mutation testing: eviction at the cap, the percentage boundary, the snapshot) ------------

def _breaker(now: list[float], **options):
    from toolkit.emulator.gateway.breaker import CircuitBreaker

    return CircuitBreaker(_rule(status_ranges=((500, 599),), **options), lambda: now[0])


def test_the_edges_of_the_percentage_and_the_trip_duration_are_kept() -> None:
    with pytest.raises(ArtifactError, match=r"percentage must be in \(0, 100\], got 101"):
        _rule(percentage=101)
    assert _rule(percentage=100).percentage == 100
    assert BreakerRule(interval_seconds=60, trip_seconds=1, count=1).trip_seconds == 1


def test_a_failure_pushed_out_of_a_full_window_is_no_longer_counted() -> None:
    from toolkit.emulator.gateway.breaker import MAX_SAMPLES

    now = [0.0]
    breaker = _breaker(now, percentage=60)
    breaker.record(500)
    for _ in range(MAX_SAMPLES - 1):
        breaker.record(200)
    assert breaker.state()["failures_in_window"] == 1  # the window is full
    breaker.record(200)  # pushes the failure out
    assert (breaker.state()["failures_in_window"], breaker.state()["requests_in_window"]) == (0, MAX_SAMPLES)


def test_a_percentage_trips_at_its_share_not_one_failure_sooner() -> None:
    now = [0.0]
    breaker = _breaker(now, percentage=50)
    for _ in range(100):
        breaker.record(200)
    assert all(breaker.record(500) is None for _ in range(99))  # 99 of 199: below half
    event = breaker.record(500)  # 100 of 200: half
    assert event is not None and (event.failures, event.requests) == (100, 200)


def test_the_snapshot_forgets_what_left_the_interval_and_an_expired_trip() -> None:
    now = [0.0]
    breaker = _breaker(now, count=2, percentage=90)
    breaker.record(500)
    now[0] = 61.0  # the failure left the 60 s interval
    assert (breaker.state()["failures_in_window"], breaker.state()["requests_in_window"]) == (0, 0)
    breaker.record(500)
    breaker.record(500)  # two in the interval: trips
    opened = breaker.state()
    assert (opened["state"], opened["opened_at"], opened["requests_in_window"]) == ("open", 61.0, 0)
    now[0] = 200.0  # the trip ran out
    closed = breaker.state()
    assert (closed["state"], closed["opened_at"], closed["open_until"]) == ("closed", None, None)


def _arm(rule: object = None, **condition: object) -> dict:
    failure = {"count": 1, "interval": "PT1M", **condition}
    body = {"failureCondition": failure, "tripDuration": "PT1M"} if rule is None else rule
    return {"properties": {"circuitBreaker": {"rules": [body]}}}


@pytest.mark.parametrize(("document", "message"), [
    ({"properties": {"url": "https://a.example.com"}}, "backend has no circuitBreaker"),
    ({"circuitBreaker": 5}, "circuitBreaker must be an object"),
    (_arm(rule=5), "circuitBreaker.rules[0] must be an object"),
    (_arm(rule={"failureCondition": {"count": 1, "interval": "PT1M"}, "tripDuration": 60}),
     "circuitBreaker.rules[0].tripDuration must be an ISO 8601 duration such as 'PT1M', got 60"),
    (_arm(percentage="half"), "circuitBreaker.rules[0].failureCondition.percentage must be an integer, got 'half'"),
    (_arm(statusCodeRanges=5), "circuitBreaker.rules[0].failureCondition.statusCodeRanges must be a list"),
    (_arm(statusCodeRanges=[500]),
     "circuitBreaker.rules[0].failureCondition.statusCodeRanges[0] needs integer 'min' and 'max', got 500"),
    (_arm(errorReasons=5), "circuitBreaker.rules[0].failureCondition.errorReasons must be a list of strings"),
])
def test_an_arm_breaker_is_refused_naming_the_field(document: dict, message: str) -> None:
    with pytest.raises(ArtifactError) as info:
        BreakerRule.from_arm(document)
    assert str(info.value) == message


def test_an_arm_rule_without_accept_retry_after_or_a_string_name_reads_as_false_and_none() -> None:
    rule = BreakerRule.from_arm(_arm(rule={"failureCondition": {"count": 1, "interval": "PT1M"}, "tripDuration": "PT1M",
                                           "name": 7}))
    assert (rule.accept_retry_after, rule.name) == (False, None)
    named = BreakerRule.from_arm(_arm(rule={"failureCondition": {"count": 1, "interval": "PT1M"}, "tripDuration": "PT1M",
                                            "name": "trip"}))
    assert named.name == "trip"


def test_an_http_date_without_a_zone_is_read_as_gmt_whatever_the_local_zone(machine_time_zone) -> None:
    when = datetime(2015, 10, 21, 7, 28, tzinfo=timezone.utc).timestamp()
    machine_time_zone("Asia/Kolkata")  # UTC+5:30: a date read as local time would be 19,800 s off
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 -0000", when - 80) == 80.0
