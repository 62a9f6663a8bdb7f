"""The circuit-breaker scenario against a gateway in miniature (fake_gateway.py) deployed as configured, or not:
each deviation of the deployed breaker or retry gets the check and sentence that name it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from fake_gateway import MEMBERS, RULE, DeployedBreaker, FakeGateway, ScenarioContext, configured, deployed_as
from toolkit.validate.expectations import Expectations
from toolkit.validate.scenarios import circuit_breaker
from toolkit.validate.settings import CircuitBreakerSettings
from toolkit.validate.verdict import Outcome, Verdict

SETTINGS = CircuitBreakerSettings(prompts=["q"])
PHASES = ["retry", "not-counted", "below-count", "at-count", "open", "before-trip-end", "after-trip-end", "pool-out",
          "pool-recovered"]


def _run(expect: Expectations, gateway: FakeGateway | None, settings: Any = SETTINGS) -> tuple[Verdict, Any]:
    ctx = ScenarioContext("circuit-breaker", expect, gateway, settings)
    return circuit_breaker.run(ctx), ctx


def _checks(verdict: Verdict) -> dict[str, tuple[Outcome, str]]:
    return {c.name: (c.outcome, c.sentence) for c in verdict.checks}


def test_a_gateway_deployed_as_configured_passes_every_check_in_order() -> None:
    expect = configured()
    verdict, ctx = _run(expect, deployed_as(expect))
    assert verdict.outcome is Outcome.PASS, verdict.sentence
    assert [c.name for c in verdict.checks] == ["retry", "not-counted", "below-count", "trips", "duration", "pool-503",
                                                "recovery"]
    assert all(c.outcome is Outcome.PASS for c in verdict.checks)
    assert ctx.phases() == PHASES
    checks = _checks(verdict)
    assert checks["retry"][1] == ("east's 2 failure(s) with 429 never reached the client (the retry policy retries "
                                  "429, 503 up to 2 times)")
    assert checks["not-counted"][1].startswith("3 failures with 500 (not counted by its rule) did not trip it: east "
                                               "still served ")
    assert checks["below-count"][1].startswith("after 2 failures east still served ")
    assert checks["trips"][1] == "after 3 failures east received no traffic (14 probes)"
    assert checks["duration"][1] == ("it stayed out 60 ± 1 s (tripDuration, timed on the emulator's clock; 14 probes "
                                     "before the end) and came back")
    assert checks["pool-503"][1] == "with every member out the pool answered 503"
    assert checks["recovery"][1] == "after the trip durations it served again"
    assert verdict.sentence == ("east (3 failures within 300 s trip it for 60 s, status 429): "
                                + "; ".join(c.sentence for c in verdict.checks))
    assert verdict.expected == {"backend": "east", "count": 3, "interval_s": 300, "trip_s": 60, "status": 429,
                                "accept_retry_after": False, "retry_count": 2, "retry_statuses": [429, 503]}
    assert verdict.observed == {c.name: c.observed for c in verdict.checks} and verdict.requests == ctx.sent > 0
    figures = {c.name: (c.expected, c.observed) for c in verdict.checks}
    served_while_uncounted = int(checks["not-counted"][1].split(" still served ")[1].split()[0])
    served_below = int(checks["below-count"][1].split(" still served ")[1].split()[0])
    assert figures == {"retry": (0, 0), "not-counted": (">0", served_while_uncounted), "below-count": (">0", served_below),
                       "trips": (0, 0), "duration": (60, 60), "pool-503": (503, 503),
                       "recovery": (200, figures["recovery"][1])}
    assert 0 < served_while_uncounted <= 14 and 0 < served_below <= 14
    assert list(figures["recovery"][1].values()) == [1]  # one probe after the trips: a member answered
    assert verdict.scenario == "circuit-breaker"


def test_a_breaker_deployed_with_a_lower_count_trips_early() -> None:
    expect = configured()
    gateway = deployed_as(expect)
    gateway.breakers["east"].count = 2
    verdict, _ = _run(expect, gateway)
    assert verdict.outcome is Outcome.FAIL
    below = next(c for c in verdict.checks if c.name == "below-count")
    assert below.sentence == ("east stopped receiving traffic after only 2 failures; its rule trips at 3: the deployed "
                              "breaker count is lower")
    assert (below.outcome, below.expected, below.observed) == (Outcome.FAIL, ">0", 0)
    # At the count it took only two of its three failures before leaving the pool: tripped early too.
    trips = next(c for c in verdict.checks if c.name == "trips")
    assert (trips.outcome, trips.expected, trips.observed) == (Outcome.FAIL, 3, 2)
    assert trips.sentence == below.sentence and verdict.sentence == below.sentence


def test_a_breaker_tripping_while_its_failures_below_the_count_drain_is_caught_there() -> None:
    expect = configured()
    gateway = deployed_as(expect)
    gateway.breakers["east"].count = 1
    verdict, _ = _run(expect, gateway)
    below = next(c for c in verdict.checks if c.name == "below-count")
    # Of its two queued failures it took one, tripped, and got no more: one is left queued.
    assert (below.outcome, below.expected, below.observed) == (Outcome.FAIL, 3, 1)
    assert below.sentence == ("east stopped receiving traffic after only 1 failures; its rule trips at 3: the deployed "
                              "breaker count is lower")


def test_a_missing_breaker_keeps_the_backend_in_the_pool() -> None:
    expect = configured()
    gateway = deployed_as(expect)
    del gateway.breakers["east"]
    verdict, _ = _run(expect, gateway)
    checks = _checks(verdict)
    assert checks["trips"][0] is Outcome.FAIL
    assert checks["trips"][1].startswith("east kept receiving traffic (")
    assert checks["trips"][1].endswith(" of 14 requests) after 3 failures (+0 in flight); its rule says 3 failures "
                                       "within 300 s trip it for 60 s: the deployed breaker is missing or trips later")
    assert "duration" not in checks  # nothing to time when it never left
    assert checks["pool-503"][0] is Outcome.FAIL
    assert checks["pool-503"][1].startswith("with every member failing, 19 requests got [") and \
        checks["pool-503"][1].endswith("] and never 503: the breakers do not take the members out")
    assert "recovery" not in checks


@pytest.mark.parametrize(("trip_s", "sentence", "observed"), [
    (30.0, "east was already back 59.0 s after it tripped (the first probe, 1 s before its tripDuration of 60 s "
           "ended): the deployed trip duration is shorter", "< 59.0"),
    (120.0, "east was still out 61 s after it tripped; tripDuration is 60 s: the deployed trip duration is longer",
     "> 61"),
])
def test_a_trip_duration_other_than_configured(trip_s: float, sentence: str, observed: str) -> None:
    expect = configured()
    gateway = deployed_as(expect)
    gateway.breakers["east"].trip_s = trip_s
    verdict, _ = _run(expect, gateway)
    duration = next(c for c in verdict.checks if c.name == "duration")
    assert (duration.outcome, duration.sentence, duration.expected, duration.observed) == (Outcome.FAIL, sentence, 60,
                                                                                          observed)
    assert verdict.outcome is Outcome.FAIL


def test_a_rule_that_accepts_retry_after_is_out_for_what_the_backend_announced() -> None:
    rule = replace(RULE, accept_retry_after=True)
    expect = configured(breakers={m.backend: rule for m in MEMBERS})
    verdict, _ = _run(expect, deployed_as(expect))
    duration = next(c for c in verdict.checks if c.name == "duration")
    assert duration.outcome is Outcome.PASS and duration.sentence.startswith(
        f"it stayed out {circuit_breaker.RETRY_AFTER_S:g} ± 1 s (Retry-After, timed on the emulator's clock; ")
    # Deployed without accepting it: out for the whole trip duration instead.
    gateway = deployed_as(expect)
    gateway.breakers["east"].accept_retry_after = False
    verdict, _ = _run(expect, gateway)
    assert _checks(verdict)["duration"] == (
        Outcome.FAIL, "east was still out 11 s after it tripped; Retry-After is 10 s: the deployed trip duration is "
                      "longer")


def test_a_retry_that_does_not_cover_the_status_lets_the_failures_through() -> None:
    expect = configured()
    verdict, _ = _run(expect, deployed_as(expect, retry_count=0))
    retry = next(c for c in verdict.checks if c.name == "retry")
    assert (retry.outcome, retry.expected, retry.observed) == (Outcome.FAIL, 0, 2)
    assert retry.sentence.startswith("2 of ") and retry.sentence.endswith(
        " requests answered 429 to the client while east failed 2 time(s) with it; the retry policy retries 429, 503 "
        "up to 2 times: the deployed retry is missing or does not cover 429")
    assert verdict.outcome is Outcome.FAIL


@pytest.mark.parametrize(("retry_count", "retry_statuses"), [(0, (429, 503)), (2, (503,)), (2, ())])
def test_no_retry_check_when_the_configuration_has_none_for_the_status(retry_count: int,
                                                                       retry_statuses: tuple[int, ...]) -> None:
    expect = configured(retry_count=retry_count, retry_statuses=retry_statuses)
    verdict, ctx = _run(expect, deployed_as(expect))
    assert "retry" not in _checks(verdict) and "retry" not in ctx.phases()


def test_one_retry_allowed_queues_one_failure_and_a_count_of_one_too() -> None:
    expect = configured(retry_count=1)
    verdict, _ = _run(expect, deployed_as(expect))
    assert _checks(verdict)["retry"][1].startswith("east's 1 failure(s) with 429 never reached the client")
    rule = replace(RULE, count=1)
    expect = configured(breakers={m.backend: rule for m in MEMBERS}, retry_count=3)
    verdict, ctx = _run(expect, deployed_as(expect))
    assert _checks(verdict)["retry"][1].startswith("east's 1 failure(s) with 429 never reached the client")
    assert "below-count" not in ctx.phases() and "below-count" not in _checks(verdict)  # nothing below a count of 1


def test_a_rule_deployed_counting_more_statuses_trips_on_an_uncounted_one() -> None:
    expect = configured()
    gateway = deployed_as(expect)
    gateway.breakers["east"].statuses = ((429, 429), (500, 599))
    verdict, _ = _run(expect, gateway)
    assert _checks(verdict)["not-counted"] == (
        Outcome.FAIL, "east stopped receiving traffic after 3 failures with 500, which its rule does not count (it "
                      "counts 429): the deployed rule counts more statuses")


def test_the_uncounted_status_is_the_first_the_rule_does_not_count_and_ranges_are_named() -> None:
    rule = replace(RULE, status_ranges=((429, 429), (500, 501)))
    expect = configured(breakers={m.backend: rule for m in MEMBERS})
    gateway = deployed_as(expect)
    gateway.breakers["east"].statuses = ((400, 599),)
    verdict, _ = _run(expect, gateway)
    assert _checks(verdict)["not-counted"][1].startswith(
        "east stopped receiving traffic after 3 failures with 502, which its rule does not count (it counts 429, "
        "500-501)")


def test_no_uncounted_check_when_the_rule_counts_every_status_tried() -> None:
    rule = replace(RULE, status_ranges=((400, 599),))
    expect = configured(breakers={m.backend: rule for m in MEMBERS})
    verdict, ctx = _run(expect, deployed_as(expect))
    assert "not-counted" not in _checks(verdict) and "not-counted" not in ctx.phases()
    assert verdict.expected["status"] == 400  # a rule's first counted status is what validation makes it answer


def test_requests_in_flight_are_queued_beyond_the_count() -> None:
    expect = configured()
    gateway = deployed_as(expect)
    verdict, _ = _run(expect, gateway, CircuitBreakerSettings(prompts=["q"], in_flight=2))
    assert verdict.outcome is Outcome.PASS
    assert _checks(verdict)["not-counted"][1].startswith("3 failures with 500 (not counted by its rule) did not trip")


@pytest.mark.parametrize(("expect", "reason"), [
    (configured(breakers={}), "apimartifacts gives east no circuit breaker: nothing to check"),
    (configured(breakers={m.backend: replace(RULE, count=None, percentage=50) for m in MEMBERS}),
     "east's rule trips on a percentage (50%); only count rules are measured"),
])
def test_what_the_scenario_cannot_measure_is_inconclusive(expect: Expectations, reason: str) -> None:
    verdict, ctx = _run(expect, deployed_as(expect))
    assert (verdict.outcome, verdict.sentence, ctx.sent) == (Outcome.INCONCLUSIVE, reason, 0)
    assert verdict.scenario == "circuit-breaker"


def test_without_fault_injection_it_is_inconclusive() -> None:
    verdict, _ = _run(configured(), None)
    assert verdict.scenario == "circuit-breaker"
    assert verdict.outcome is Outcome.INCONCLUSIVE and verdict.sentence.startswith(
        "circuit-breaker needs a backend to fail on demand")


def test_a_backend_that_never_gets_its_queued_failures_is_inconclusive() -> None:
    expect = configured()
    gateway = deployed_as(expect, members=[m for m in MEMBERS if m.backend != "east"])  # east is not in the pool
    verdict, ctx = _run(expect, gateway)
    assert (verdict.outcome, verdict.sentence) == (Outcome.INCONCLUSIVE,
                                                   "east never received its 2 queued failures")
    assert verdict.scenario == "circuit-breaker"
    assert ctx.sent == 3 * (20 * 3 + 20)  # retry, not-counted and below-count each gave up after the cap
    # With a count of one nothing is queued below it: the at-count step is the one that says so.
    rule = replace(RULE, count=1)
    expect = configured(breakers={m.backend: rule for m in MEMBERS}, retry_count=0)
    verdict, _ = _run(expect, deployed_as(expect, members=[m for m in MEMBERS if m.backend != "east"]))
    assert (verdict.outcome, verdict.sentence) == (Outcome.INCONCLUSIVE, "east never received its 1 queued failures")
    assert verdict.scenario == "circuit-breaker"
    # The checks made before the step that gives up are not reported: the verdict is that step's.
    verdict, _ = _run(configured(), deployed_as(configured(), members=[MEMBERS[1], MEMBERS[2]]))
    assert _checks(verdict) == {"precondition": (Outcome.INCONCLUSIVE, "east never received its 2 queued failures")}


def test_a_backend_out_of_the_pool_makes_the_retry_and_uncounted_checks_inconclusive() -> None:
    rule = replace(RULE, count=1)
    expect = configured(breakers={m.backend: rule for m in MEMBERS}, retry_count=1)
    gateway = deployed_as(expect, members=[MEMBERS[1], MEMBERS[2]])
    ctx = ScenarioContext("circuit-breaker", expect, gateway, SETTINGS)
    assert circuit_breaker._retry(ctx, "east", 1, 429, 30) == circuit_breaker.Check(
        "retry", Outcome.INCONCLUSIVE, "east never received its 1 queued failures")
    assert circuit_breaker._not_counted(ctx, "east", rule, 1, 30, 14) == circuit_breaker.Check(
        "not-counted", Outcome.INCONCLUSIVE, "east never received its 1 queued failures")
    assert ctx.sent == 60  # each gave up after its cap of 30 requests


def test_a_pool_that_does_not_recover_fails_recovery() -> None:
    expect = configured()
    gateway = deployed_as(expect)
    for breaker in gateway.breakers.values():
        breaker.trip_s = 10_000.0  # still out long after the configured trip durations
    gateway.breakers["east"].trip_s = 60.0
    verdict, _ = _run(expect, gateway)
    assert _checks(verdict)["recovery"][0] is Outcome.PASS  # east, back after 60 s, serves the one recovery probe
    gateway = deployed_as(expect)
    for breaker in gateway.breakers.values():
        breaker.trip_s = 10_000.0
    verdict, _ = _run(expect, gateway)
    assert _checks(verdict)["recovery"] == (Outcome.FAIL, "after the trip durations the pool still answered status 503")


def test_no_whole_pool_check_when_a_member_has_no_breaker() -> None:
    expect = configured(breakers={"east": RULE, "north": RULE})
    verdict, ctx = _run(expect, deployed_as(expect))
    assert verdict.outcome is Outcome.PASS and "pool-503" not in _checks(verdict) and "pool-out" not in ctx.phases()


def test_the_rule_of_the_first_member_expected_to_serve_is_the_one_measured() -> None:
    members = [MEMBERS[2], MEMBERS[0], MEMBERS[1]]  # west (priority 2) first in the pool
    expect = configured(members=members)
    verdict, _ = _run(expect, deployed_as(expect))
    assert verdict.expected["backend"] == "east" and verdict.sentence.startswith("east (")


def test_the_open_breaker_is_probed_enough_to_see_a_member_with_a_small_share() -> None:
    members = [replace(MEMBERS[0], weight=10), replace(MEMBERS[1], weight=90), MEMBERS[2]]
    expect = configured(members=members)
    verdict, _ = _run(expect, deployed_as(expect))
    assert _checks(verdict)["trips"][1] == "after 3 failures east received no traffic (88 probes)"


def test_fake_gateway_sanity() -> None:
    gateway = FakeGateway(MEMBERS[:1], {"east": DeployedBreaker(1)})
    gateway.fail("east", 429, 1)
    assert gateway.ask("s", "p").status == 429 and gateway.ask("s", "p").status == 503
    gateway.advance(60)
    assert gateway.ask("s", "p").status == 200


def test_an_uncounted_status_that_trips_before_all_its_failures_were_taken() -> None:
    expect = configured()
    gateway = deployed_as(expect)
    gateway.breakers["east"].statuses = ((429, 429), (500, 500))
    gateway.breakers["east"].count = 2  # trips at the second 500 and never takes the other three queued
    settings = CircuitBreakerSettings(prompts=["q"], in_flight=2)
    verdict, ctx = _run(expect, gateway, settings)
    uncounted = next(c for c in verdict.checks if c.name == "not-counted")
    assert (uncounted.outcome, uncounted.expected, uncounted.observed) == (Outcome.FAIL, "serving", 0)
    assert uncounted.sentence == ("east stopped receiving traffic after 2 failures with 500, which its rule does not "
                                  "count (it counts 429): the deployed rule counts more statuses")
    cap = 20 * (3 + 2) + 20
    assert sum(1 for row in ctx.log.rows if row.phase == "not-counted") == cap  # drained to the cap, no probes after


def test_a_count_of_two_has_one_failure_below_it() -> None:
    rule = replace(RULE, count=2)
    expect = configured(breakers={m.backend: rule for m in MEMBERS})
    verdict, _ = _run(expect, deployed_as(expect))
    assert verdict.outcome is Outcome.PASS
    assert _checks(verdict)["below-count"][1].startswith("after 1 failures east still served ")


def _timed(seconds_per_request: float, clock: float) -> tuple[ScenarioContext, FakeGateway]:
    """east tripped at 1000.0 for 60 s (west, priority 2, serves meanwhile); the clock at ``clock``."""
    expect = configured(members=[MEMBERS[0], MEMBERS[2]])
    gateway = deployed_as(expect, seconds_per_request=seconds_per_request, clock=clock)
    gateway.breakers["east"].open_until = 1060.0
    return ScenarioContext("circuit-breaker", expect, gateway, SETTINGS), gateway


def test_early_probes_stop_where_they_would_land_after_the_trips_end() -> None:
    ctx, gateway = _timed(0.5, 1000.0)
    check = circuit_breaker._duration(ctx, "east", 1000.0, 60.0, 3, RULE)
    # Probes at 1059.0 and 1059.5; the next would be at 1060.0, past 0.05 s before the end: the late probes follow.
    assert check == circuit_breaker.Check("duration", Outcome.PASS, "it stayed out 60 ± 1 s (tripDuration, timed on the "
                                          "emulator's clock; 2 probes before the end) and came back", 60, 60)
    assert [row.time for row in ctx.log.rows] == [1059.0, 1059.5, 1061.0, 1061.5, 1062.0]
    assert gateway.clock == 1062.5


def test_the_late_probes_start_one_tolerance_after_the_end_even_when_the_early_ones_ran_past_it() -> None:
    ctx, gateway = _timed(0.75, 1000.0)
    circuit_breaker._duration(ctx, "east", 1000.0, 60.0, 3, RULE)
    # Early probes at 1059.0 and 1059.75; the clock is then at 1060.5, so the late ones start at 1061.0.
    assert [row.time for row in ctx.log.rows] == [1059.0, 1059.75, 1061.0, 1061.75, 1062.5]


def test_requests_too_slow_to_probe_before_the_end_are_inconclusive() -> None:
    ctx, gateway = _timed(0.0, 1100.0)  # the clock is past the trip's end already
    check = circuit_breaker._duration(ctx, "east", 1000.0, 60.0, 3, RULE)
    assert check == circuit_breaker.Check("duration", Outcome.INCONCLUSIVE, "requests were too slow to probe east "
                                          "within 1 s before its tripDuration ended; raise timing_tolerance_s")
    assert gateway.clock == 1100.0 and ctx.sent == 0


def test_the_whole_pool_step_sends_enough_requests_to_trip_every_member_once() -> None:
    rules = {"east": RULE, "north": replace(RULE, count=None, percentage=50), "west": replace(RULE, count=5)}
    expect = configured(breakers=rules)
    gateway = deployed_as(expect)
    del gateway.breakers["north"], gateway.breakers["west"]  # deployed without: the pool never runs out
    checks = _checks(_run(expect, gateway)[0])
    # 3 + 5 for the count rules, 1 for the percentage rule, and 10 more.
    assert checks["pool-503"][1] == ("with every member failing, 19 requests got [429] and never 503: the breakers "
                                     "do not take the members out")
    pool = next(c for c in _run(expect, deployed_as(expect, breakers={}))[0].checks if c.name == "pool-503")
    assert (pool.expected, pool.observed) == (503, [429])


def test_after_the_whole_pool_tripped_one_probe_waits_out_the_longest_trip() -> None:
    rules = {"east": RULE, "north": replace(RULE, trip_s=90), "west": RULE}
    expect = configured(breakers=rules)
    gateway = deployed_as(expect)
    verdict, ctx = _run(expect, gateway)
    assert verdict.outcome is Outcome.PASS
    recovered = [row for row in ctx.log.rows if row.phase == "pool-recovered"]
    out = max(row.time for row in ctx.log.rows if row.phase == "pool-out")
    assert len(recovered) == 1 and recovered[0].time == out + 91
