"""CircuitBreaker and BreakerRule: tripping, sliding window, open time, Retry-After, ARM parsing."""

from __future__ import annotations

import json
from email.utils import formatdate

import pytest

from toolkit.emulator.gateway.breaker import (
    MAX_SAMPLES,
    MIN_REQUESTS,
    BreakerRule,
    CircuitBreaker,
    Transition,
    parse_retry_after,
)
from toolkit.errors import ArtifactError


def rule(**overrides) -> BreakerRule:
    fields = dict(count=3, interval_seconds=300.0, status_ranges=((429, 429),), trip_seconds=60.0)
    fields.update(overrides)
    return BreakerRule(**fields)


def trip(breaker: CircuitBreaker, n: int, status: int = 429, **kwargs) -> list[Transition | None]:
    return [breaker.record(status, **kwargs) for _ in range(n)]


# --- count mode --------------------------------------------------------------------------------


def test_trips_exactly_on_the_count_th_failure(clock):
    breaker = CircuitBreaker(rule(), clock)
    assert trip(breaker, 2) == [None, None]
    assert not breaker.is_open()
    event = breaker.record(429)
    assert event == Transition(
        state="open", at=clock.now, open_until=clock.now + 60, failures=3, requests=None, retry_after_used=False
    )
    assert breaker.is_open()


def test_failures_older_than_the_interval_do_not_count(clock):
    breaker = CircuitBreaker(rule(), clock)
    breaker.record(429)  # t=0
    clock.advance(100)
    breaker.record(429)  # t=100
    clock.advance(200)
    assert breaker.record(429) is None  # t=300: the t=0 failure is exactly one interval old, out
    assert breaker.state()["failures_in_window"] == 2
    clock.advance(1)
    assert breaker.record(429) is not None  # t=301: failures at 100, 300, 301


def test_failures_spread_inside_the_interval_trip(clock):
    breaker = CircuitBreaker(rule(), clock)
    for _ in range(2):
        breaker.record(429)
        clock.advance(149.9)
    assert breaker.record(429) is not None  # 0, 149.9, 299.8 are all within 300 s


def test_stays_open_for_trip_duration_then_closes_with_an_empty_window(clock):
    breaker = CircuitBreaker(rule(), clock)
    opened = trip(breaker, 3)[-1].at
    assert breaker.is_open(now=opened + 59.999)
    assert not breaker.is_open(now=opened + 60)
    clock.advance(30)
    assert breaker.record(429) is None  # in flight when it tripped: ignored
    assert breaker.is_open()
    clock.advance(30)
    assert not breaker.is_open()
    assert trip(breaker, 2) == [None, None]  # counting starts afresh after closing
    assert breaker.record(429) is not None
    assert breaker.state()["trips"] == 2


def test_non_matching_statuses_do_not_count(clock):
    breaker = CircuitBreaker(rule(count=1, status_ranges=((500, 599),)), clock)
    for status in (200, 400, 404, 429, 499, 600):
        assert breaker.record(status) is None
    assert breaker.state()["failures_in_window"] == 0
    assert breaker.record(503) is not None


def test_several_status_ranges(clock):
    breaker = CircuitBreaker(rule(count=2, status_ranges=((429, 429), (500, 503))), clock)
    assert breaker.record(500) is None
    assert breaker.record(504) is None
    assert breaker.record(429) is not None


def test_connection_failures_count_only_with_error_reasons(clock):
    without = CircuitBreaker(rule(count=1), clock)
    assert without.record(None, connection_failure=True) is None
    assert without.state()["failures_in_window"] == 0

    with_reasons = CircuitBreaker(rule(count=2, error_reasons=("BackendConnectionFailure",)), clock)
    assert with_reasons.record(None) is None  # no response but not flagged: not a failure
    assert with_reasons.record(None, connection_failure=True) is None
    assert with_reasons.record(None, connection_failure=True) is not None


def test_error_reasons_alone_make_a_valid_rule(clock):
    breaker = CircuitBreaker(rule(count=1, status_ranges=(), error_reasons=("Server errors",)), clock)
    assert breaker.record(500) is None
    assert breaker.record(None, connection_failure=True) is not None


# --- Retry-After ---------------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [10, 120])
def test_accept_retry_after_uses_the_header_in_seconds(clock, seconds):
    breaker = CircuitBreaker(rule(accept_retry_after=True), clock)
    trip(breaker, 2, retry_after="999")  # only the tripping response's header matters
    event = breaker.record(429, retry_after=str(seconds))
    assert event.open_until == clock.now + seconds
    assert event.retry_after_used
    assert breaker.is_open(now=clock.now + seconds - 0.001)
    assert not breaker.is_open(now=clock.now + seconds)


def test_accept_retry_after_reads_an_http_date(clock):
    breaker = CircuitBreaker(rule(accept_retry_after=True), clock)
    trip(breaker, 2)
    event = breaker.record(429, retry_after=formatdate(clock.now + 10, usegmt=True))
    assert event.open_until == pytest.approx(clock.now + 10)
    assert event.retry_after_used


@pytest.mark.parametrize(
    ("accept", "header"),
    [(True, None), (True, "soon"), (True, "-5"), (False, "10")],
)
def test_trip_duration_applies_without_a_usable_header(clock, accept, header):
    breaker = CircuitBreaker(rule(accept_retry_after=accept), clock)
    trip(breaker, 2)
    event = breaker.record(429, retry_after=header)
    assert event.open_until == clock.now + 60
    assert not event.retry_after_used


def test_parse_retry_after(clock):
    assert parse_retry_after(" 7 ", clock.now) == 7.0
    assert parse_retry_after("1.5", clock.now) == 1.5
    assert parse_retry_after(formatdate(clock.now - 100, usegmt=True), clock.now) == 0.0
    assert parse_retry_after("Wed, 11 Jun 2025 12:00:30 GMT", clock.now) == pytest.approx(30.0)
    assert parse_retry_after("tomorrow", clock.now) is None


# --- percentage mode -----------------------------------------------------------------------------


def percentage_rule(**overrides) -> BreakerRule:
    return rule(count=None, percentage=50, interval_seconds=60.0, **overrides)


def test_percentage_needs_the_minimum_number_of_requests(clock):
    breaker = CircuitBreaker(percentage_rule(), clock)
    assert trip(breaker, MIN_REQUESTS - 1) == [None] * (MIN_REQUESTS - 1)  # 100 % failed, too few
    event = breaker.record(429)
    assert event is not None and event.failures == MIN_REQUESTS and event.requests == MIN_REQUESTS


def test_percentage_threshold_is_inclusive(clock):
    breaker = CircuitBreaker(percentage_rule(), clock)
    trip(breaker, 5, status=200)
    assert trip(breaker, 4) == [None] * 4  # 4 of 9
    assert breaker.record(429) is not None  # 5 of 10 = 50 %


def test_percentage_below_threshold_does_not_trip(clock):
    breaker = CircuitBreaker(percentage_rule(), clock)
    trip(breaker, 6, status=200)
    trip(breaker, 4)
    assert not breaker.is_open()
    assert breaker.state()["failures_in_window"] == 4
    assert breaker.state()["requests_in_window"] == 10


def test_percentage_trips_only_on_a_failure(clock):
    breaker = CircuitBreaker(percentage_rule(), clock)
    trip(breaker, 9)
    assert breaker.record(200) is None  # 9 of 10 failed, but a success does not trip
    assert breaker.record(429) is not None


def test_percentage_window_slides(clock):
    breaker = CircuitBreaker(percentage_rule(), clock)
    trip(breaker, 9)
    clock.advance(60)
    assert trip(breaker, 9) == [None] * 9  # the first nine slid out
    assert breaker.state()["requests_in_window"] == 9


def test_count_and_percentage_together_trip_on_either(clock):
    breaker = CircuitBreaker(rule(count=3, percentage=90, interval_seconds=60.0), clock)
    trip(breaker, 20, status=200)
    trip(breaker, 2)
    assert breaker.record(429) is not None  # 3 failures: count reached, 3/23 far below 90 %


# --- state, reset, memory ------------------------------------------------------------------------


def test_state_contents(clock):
    breaker = CircuitBreaker(rule(), clock)
    breaker.record(429)
    assert breaker.state() == {
        "state": "closed",
        "opened_at": None,
        "open_until": None,
        "failures_in_window": 1,
        "requests_in_window": None,
        "trips": 0,
    }
    trip(breaker, 2)
    opened = clock.now
    clock.advance(5)
    assert breaker.state() == {
        "state": "open",
        "opened_at": opened,
        "open_until": opened + 60,
        "failures_in_window": 0,
        "requests_in_window": None,
        "trips": 1,
    }
    clock.advance(55)
    assert breaker.state()["state"] == "closed"
    assert breaker.state()["open_until"] is None
    assert breaker.state()["trips"] == 1


def test_reset_closes_and_forgets(clock):
    breaker = CircuitBreaker(rule(), clock)
    trip(breaker, 3)
    breaker.reset()
    assert not breaker.is_open()
    assert breaker.state()["trips"] == 0
    assert trip(breaker, 2) == [None, None]


def test_window_memory_is_bounded(clock):
    counting = CircuitBreaker(rule(count=3, interval_seconds=1.0), clock)
    ratio = CircuitBreaker(percentage_rule(), clock)
    for _ in range(3 * MAX_SAMPLES):
        counting.record(429)
        clock.advance(0.6)  # at most two failures within any 1 s: never trips
        ratio.record(200)
    assert counting.state()["trips"] == 0
    assert len(counting._window) <= 2
    assert ratio.state()["requests_in_window"] <= MAX_SAMPLES
    for _ in range(2 * MAX_SAMPLES):
        ratio.record(200)  # same instant: the cap, not the interval, bounds it
    assert ratio.state()["requests_in_window"] == MAX_SAMPLES


# --- rule validation and ARM parsing -------------------------------------------------------------


def test_a_rule_without_ranges_or_reasons_is_accepted_and_never_trips(clock):
    """The 2024-05-01 spec makes both lists optional: nothing counts as a failure."""
    breaker = CircuitBreaker(rule(count=1, status_ranges=()), clock)
    for status in (429, 500, 503):
        assert breaker.record(status) is None
    assert breaker.record(None, connection_failure=True) is None
    assert not breaker.is_open()


def test_rule_validation():
    with pytest.raises(ArtifactError, match="count or a percentage"):
        rule(count=None)
    with pytest.raises(ArtifactError, match="count must be"):
        rule(count=0)
    with pytest.raises(ArtifactError, match="percentage"):
        rule(count=None, percentage=150)
    with pytest.raises(ArtifactError, match="status range"):
        rule(status_ranges=((500, 400),))
    with pytest.raises(ArtifactError, match="interval"):
        rule(interval_seconds=0)


@pytest.fixture
def sample_backend(repo_root) -> dict:
    """openai-eastus's backendInformation.json, rendered from the sample toolkit.yaml."""
    from toolkit.config import load_config
    from toolkit.render import render_artifacts

    loaded = load_config(repo_root / "toolkit.yaml")
    artifacts = render_artifacts(loaded.gateway, repo_root / "policies")
    text = artifacts.get("backends/openai-eastus/backendInformation.json")
    assert text is not None
    return json.loads(text)


def test_from_arm_reads_the_sample_backend(sample_backend):
    parsed = BreakerRule.from_arm(sample_backend)
    assert parsed == BreakerRule(
        count=3,
        interval_seconds=300.0,
        status_ranges=((429, 429),),
        trip_seconds=60.0,
        accept_retry_after=False,
        name="openAIBreakerRule",
    )
    assert BreakerRule.from_arm(sample_backend["properties"]) == parsed
    assert BreakerRule.from_arm(sample_backend["properties"]["circuitBreaker"]) == parsed


def test_from_arm_reads_every_field():
    parsed = BreakerRule.from_arm(
        {
            "rules": [
                {
                    "name": "r",
                    "failureCondition": {
                        "percentage": 25,
                        "interval": "PT1H30M",
                        "statusCodeRanges": [{"min": 429, "max": 429}, {"min": 500, "max": 599}],
                        "errorReasons": ["Server errors"],
                    },
                    "tripDuration": "P1D",
                    "acceptRetryAfter": True,
                }
            ]
        }
    )
    assert parsed.count is None and parsed.percentage == 25
    assert parsed.interval_seconds == 5400.0
    assert parsed.status_ranges == ((429, 429), (500, 599))
    assert parsed.error_reasons == ("Server errors",)
    assert parsed.trip_seconds == 86400.0
    assert parsed.accept_retry_after is True


def _arm(condition=None, **rule_fields) -> dict:
    failure = {"count": 1, "interval": "PT1M", "statusCodeRanges": [{"min": 429, "max": 429}]}
    failure.update(condition or {})
    body = {"failureCondition": failure, "tripDuration": "PT1M"}
    body.update(rule_fields)
    return {"rules": [body]}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"rules": []}, "exactly one rule"),
        ({"rules": [_arm()["rules"][0]] * 2}, "exactly one rule"),
        ({"rules": [{"tripDuration": "PT1M"}]}, "failureCondition must be"),
        (_arm({"interval": "5 minutes"}), "failureCondition.interval"),
        (_arm({"interval": "P1M"}), "years or months"),
        (_arm(tripDuration=None), "tripDuration"),
        (_arm({"count": "3"}), "failureCondition.count must be an integer"),
        (_arm({"count": None}), "count or a percentage"),
        (_arm({"statusCodeRanges": [{"min": 100, "max": 200}]}), "200 <= min"),
        (_arm({"statusCodeRanges": [{"min": 429}]}), "statusCodeRanges\\[0\\]"),
        (_arm({"errorReasons": "Server errors"}), "errorReasons"),
        (_arm(acceptRetryAfter="yes"), "acceptRetryAfter"),
        ({"properties": {"type": "Single", "url": "https://x"}}, "no circuitBreaker"),
    ],
)
def test_from_arm_refuses_bad_json(document, message):
    with pytest.raises(ArtifactError, match=message):
        BreakerRule.from_arm(document)


def test_does_not_trip_below_its_count_however_long_it_runs(clock):
    breaker = CircuitBreaker(rule(count=5, interval_seconds=10.0), clock)
    for _ in range(50):
        assert trip(breaker, 4) == [None] * 4  # four failures per interval: one short of the count
        clock.advance(10.5)
    assert not breaker.is_open() and breaker.state()["trips"] == 0


def test_percentage_100_trips_only_when_every_request_failed(clock):
    breaker = CircuitBreaker(rule(count=None, percentage=100), clock)
    breaker.record(200)
    assert trip(breaker, 20) == [None] * 20  # 20 of 21 failed: below 100 %
    fresh = CircuitBreaker(rule(count=None, percentage=100), clock)
    assert trip(fresh, 9) == [None] * 9  # all failed, but fewer than MIN_REQUESTS
    assert fresh.record(429) is not None


@pytest.mark.parametrize(("changes", "message"), [
    ({"percentage": 0}, "percentage"),
    ({"failureCondition": None}, "failureCondition"),
    ({"tripDuration": "PT0S"}, "tripDuration must be positive"),
    ({"percentage": True}, "percentage must be an integer"),
    ({"count": True}, "count must be an integer"),
    ({"statusCodeRanges": [{"min": 500, "max": 600}]}, "200 <= min <= max <= 599"),
])
def test_from_arm_boundaries_refused(changes, message):
    condition = {"count": 3, "interval": "PT1M", "statusCodeRanges": [{"min": 429, "max": 429}]}
    rule_json = {"name": "r", "failureCondition": condition, "tripDuration": "PT1M"}
    for key, value in changes.items():
        if key in ("tripDuration", "failureCondition"):
            rule_json[key] = value
        else:
            condition.pop("count") if key == "percentage" else None
            condition[key] = value
    with pytest.raises(ArtifactError, match=message):
        BreakerRule.from_arm({"rules": [rule_json]})


def test_from_arm_boundaries_accepted():
    base = {"name": "r", "tripDuration": "PT1M", "acceptRetryAfter": None,
            "failureCondition": {"percentage": 100, "interval": "PT1M",
                                 "statusCodeRanges": [{"min": 200, "max": 599}]}}
    parsed = BreakerRule.from_arm({"rules": [base]})
    assert parsed.percentage == 100 and parsed.accept_retry_after is False
    assert parsed.status_ranges == ((200, 599),)
