"""The priority-failover scenario against a gateway in miniature (fake_gateway.py): the next group takes over by its
weights while the top group is out, and traffic returns after the trip duration; each deviation is named."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from fake_gateway import MEMBERS, RULE, FakeGateway, ScenarioContext, configured, deployed_as
from toolkit.validate.expectations import Expectations, Member
from toolkit.validate.scenarios import priority_failover
from toolkit.validate.settings import PriorityFailoverSettings
from toolkit.validate.verdict import Outcome, Verdict

SETTINGS = PriorityFailoverSettings(prompts=["q"])
SECOND_GROUP = [Member("west", 2, 30, "West US"), Member("south", 2, 70, "South Central US")]


def _run(expect: Expectations, gateway: FakeGateway | None, settings: Any = SETTINGS,
         allow_quota_burn: bool = False) -> tuple[Verdict, ScenarioContext]:
    ctx = ScenarioContext("priority-failover", expect, gateway, settings)
    ctx.allow_quota_burn = allow_quota_burn
    return priority_failover.run(ctx), ctx


def test_the_next_group_serves_by_its_weights_and_traffic_returns() -> None:
    expect = configured(members=[*MEMBERS[:2], *SECOND_GROUP])
    gateway = deployed_as(expect)
    verdict, ctx = _run(expect, gateway)
    assert verdict.outcome is Outcome.PASS, verdict.sentence
    routed = verdict.observed["requests_routed"]
    assert verdict.sentence == (f"with priority 1 out, priority 2 served by its weights (±10%, {routed} requests); "
                                "60 s later all 20 requests were back on the top group")
    assert verdict.expected == {"shares_while_out": {"east": 0.0, "north": 0.0, "west": 0.3, "south": 0.7},
                                "returns_to": ["east", "north"]}
    assert ctx.phases() == ["taking-out", "failed-over", "recovered"] and verdict.scenario == "priority-failover"
    # The warm-up ends at the fifth answer in a row from the next group, and not before.
    warm = [(row.status, row.backend) for row in ctx.log.rows if row.phase == "taking-out"]
    assert all(backend in ("west", "south") and status == 200 for status, backend in warm[-5:])
    assert warm[-6][1] not in ("west", "south") or warm[-6][0] != 200
    assert verdict.requests == ctx.sent
    recovery = verdict.checks[-1]
    assert (recovery.name, recovery.expected) == ("recovery", ["east", "north"])
    assert sum(recovery.observed.values()) == 20 and set(recovery.observed) <= {"east", "north"}


def test_the_top_group_is_failed_with_each_members_counted_status() -> None:
    rules = {"east": RULE, "north": replace(RULE, status_ranges=((500, 599),)), "west": RULE}
    expect = configured(breakers=rules)
    gateway = deployed_as(expect)
    _run(expect, gateway)
    assert gateway.failed == [("east", 429, 10_000), ("north", 500, 10_000)]


def test_a_top_group_that_never_leaves_the_pool_fails_failover() -> None:
    expect = configured()
    gateway = deployed_as(expect)
    del gateway.breakers["east"], gateway.breakers["north"]  # deployed without breakers: never taken out
    verdict, ctx = _run(expect, gateway)
    assert verdict.outcome is Outcome.FAIL and [c.name for c in verdict.checks] == ["failover"]
    warm_cap = 2 * 3 * 5 + 20
    assert ctx.sent == warm_cap == verdict.requests and verdict.scenario == "priority-failover"
    assert verdict.sentence == (
        f"with east failing with 429, north failing with 429, after {warm_cap} requests the priority-2 group was still "
        f"not serving steadily (status 429 {warm_cap}): the priority-1 members did not leave the pool: the deployed "
        "breakers do not take them out (missing, or not counting that status) or the priority-2 members are not in the "
        "pool")
    assert verdict.checks[0].expected == "priority 2 serving" and verdict.checks[0].observed == {"status 429": warm_cap}
    assert verdict.expected == {"serving_while_out": ["west"]} and verdict.observed == {
        "failover": {"status 429": warm_cap}}


def test_a_next_group_serving_now_and_then_is_not_a_failover() -> None:
    # Deployed: east never leaves and takes nearly everything; west sits beside it in the top group. West answers now
    # and then, never five times in a row: the warm-up gives up and lists the answers, the most frequent first.
    expect = configured(retry_count=0)
    beside = Member("a-west", 1, 1, "A West")  # named to sort before "status 429": the listing is by frequency
    gateway = deployed_as(expect, members=[replace(MEMBERS[0], weight=99), beside])
    del gateway.breakers["east"]
    verdict, ctx = _run(expect, gateway)
    answered = verdict.checks[0].observed
    assert verdict.outcome is Outcome.FAIL and set(answered) == {"status 429", "a-west"}
    assert answered["status 429"] > answered["a-west"] > 0 and sum(answered.values()) == ctx.sent == 50
    assert f"(status 429 {answered['status 429']}, a-west {answered['a-west']})" in verdict.sentence


def test_traffic_that_does_not_return_fails_recovery() -> None:
    expect = configured(members=[*MEMBERS[:2], *SECOND_GROUP])
    gateway = deployed_as(expect)
    for name in ("east", "north"):
        gateway.breakers[name].trip_s = 600.0  # out far longer than their configured 60 s
    verdict, _ = _run(expect, gateway)
    recovery = verdict.checks[-1]
    assert (recovery.name, recovery.outcome, recovery.expected) == ("recovery", Outcome.FAIL, ["east", "north"])
    assert set(recovery.observed) == {"west", "south"} and sum(recovery.observed.values()) == 20
    assert recovery.sentence == ("60 s after the trip, 20 of 20 requests still went to "
                                 f"{', '.join(recovery.observed)}: traffic did not return to the top group")
    assert verdict.outcome is Outcome.FAIL and verdict.sentence == recovery.sentence
    # One of the two back is enough: the top group serves again.
    gateway = deployed_as(expect)
    gateway.breakers["east"].trip_s = 600.0
    verdict, _ = _run(expect, gateway)
    assert verdict.checks[-1].outcome is Outcome.PASS and verdict.checks[-1].observed == {"north": 20}


def test_the_longest_trip_of_the_top_group_is_waited_and_enough_probes_sent() -> None:
    rules = {"east": RULE, "north": replace(RULE, trip_s=90), "west": RULE}
    expect = configured(breakers=rules)
    verdict, ctx = _run(expect, deployed_as(expect), PriorityFailoverSettings(prompts=["q"], recovery_probes=3))
    assert verdict.checks[-1].sentence == "90 s later all 14 requests were back on the top group"
    assert ctx.gateway.clock == 1000.0 + 91  # one second past the longest trip duration
    assert sum(1 for row in ctx.log.rows if row.phase == "recovered") == 14


@pytest.mark.parametrize(("expect", "reason"), [
    (configured(members=MEMBERS[:2]), "the pool 'pool' has a single priority group: there is nothing to fail over to"),
    (configured(breakers={"east": RULE, "west": RULE}),
     "north has no circuit breaker, so APIM never takes it out of the pool: there is no failover to observe"),
    (configured(breakers={"west": RULE}),
     "east, north has no circuit breaker, so APIM never takes it out of the pool: there is no failover to observe"),
    (configured(members=[]), "the API 'chat' sends to no backend in apimartifacts: nothing to route"),
])
def test_what_cannot_fail_over_is_inconclusive(expect: Expectations, reason: str) -> None:
    verdict, ctx = _run(expect, deployed_as(expect))
    assert (verdict.outcome, verdict.sentence, ctx.sent) == (Outcome.INCONCLUSIVE, reason, 0)
    assert verdict.scenario == "priority-failover"


def test_on_azure_it_needs_leave_to_burn_quota() -> None:
    verdict, _ = _run(configured(), None)
    assert verdict.scenario == "priority-failover"
    assert (verdict.outcome, verdict.sentence) == (
        Outcome.INCONCLUSIVE, "taking the priority-1 group out needs fault injection (emulator) or a quota burst on "
                              "Azure: pass --allow-quota-burn to spend the deployments' TPM")


def _azure(expect: Expectations, gateway: FakeGateway, quota_resets: bool = False) -> tuple[Verdict, ScenarioContext]:
    ctx = ScenarioContext("priority-failover", expect, gateway, SETTINGS, control=False)
    ctx.allow_quota_burn = True
    if quota_resets:  # the deployments' token window ends while the scenario waits
        wait = ctx.sleep

        def sleep(seconds: float) -> None:
            gateway.faults.clear()
            wait(seconds)

        ctx.sleep = sleep  # type: ignore[method-assign]
    return priority_failover.run(ctx), ctx


def test_on_azure_a_quota_burst_takes_the_top_group_out_and_time_brings_it_back() -> None:
    expect = configured()
    gateway = deployed_as(expect)
    for name in ("east", "north"):  # their quota runs out under the burst (429s until the window ends)
        gateway.fail(name, 429, 10_000)
    verdict, ctx = _azure(expect, gateway, quota_resets=True)
    burst = [options for options in ctx.asked if options["phase"] == "quota-burn"]
    assert burst == [{"prompt_id": "p1", "prompt": "q", "phase": "quota-burn", "max_tokens": 4000}] * 50
    assert ctx.phases() == ["quota-burn", "taking-out", "failed-over", "recovered"] and ctx.slept == [61]
    assert verdict.outcome is Outcome.PASS, verdict.sentence
    assert [c.name for c in verdict.checks] == ["east", "north", "west", "recovery"]


def test_on_azure_a_burst_that_does_not_exhaust_the_top_group_is_inconclusive() -> None:
    expect = configured()
    verdict, ctx = _azure(expect, deployed_as(expect))
    assert verdict.outcome is Outcome.INCONCLUSIVE and ctx.sent == 50 + 50 and verdict.scenario == "priority-failover"
    assert verdict.sentence.startswith("after 50 requests the priority-2 group was still not serving steadily (")
    assert verdict.sentence.endswith("): the priority-1 members did not leave the pool")


def test_the_next_group_off_its_weights_fails_while_the_top_group_is_out() -> None:
    expect = configured(members=[*MEMBERS[:2], *SECOND_GROUP])
    gateway = deployed_as(expect, members=[*MEMBERS[:2], replace(SECOND_GROUP[0], weight=70),
                                           replace(SECOND_GROUP[1], weight=30)])
    verdict, _ = _run(expect, gateway)
    assert verdict.outcome is Outcome.FAIL and verdict.scenario == "priority-failover"
    assert verdict.sentence.endswith("while the priority-1 backends were out: check the pool's weights and priorities "
                                     "as deployed")


def test_replayed_answers_in_the_warm_up_are_neither_counted_nor_a_reason_to_stop() -> None:
    expect = configured()
    gateway = deployed_as(expect, replayed=2)
    verdict, ctx = _run(expect, gateway)
    assert verdict.outcome is Outcome.PASS and ctx.log.rows[0].cache_hit and ctx.log.rows[1].cache_hit


def test_a_percentage_rule_in_the_top_group_counts_as_ten_failures_in_the_warm_up() -> None:
    rules = {"east": RULE, "north": replace(RULE, count=None, percentage=50), "west": RULE}
    expect = configured(breakers=rules)
    gateway = deployed_as(expect)
    del gateway.breakers["east"], gateway.breakers["north"]
    verdict, ctx = _run(expect, gateway)
    assert verdict.outcome is Outcome.FAIL and ctx.sent == (3 + 10) * 5 + 20


def test_five_answers_in_a_row_from_the_next_group_end_the_warm_up_even_from_the_first_request() -> None:
    expect = configured()
    # Deployed with the "top" group below west: west answers from the very first request.
    gateway = deployed_as(expect, members=[replace(MEMBERS[0], priority=3), replace(MEMBERS[1], priority=3),
                                           MEMBERS[2]])
    verdict, ctx = _run(expect, gateway)
    assert sum(1 for row in ctx.log.rows if row.phase == "taking-out") == priority_failover.WARM_STREAK == 5
    assert verdict.checks[-1].outcome is Outcome.FAIL  # and traffic never "returns" to a group that is not on top
