"""The routing scenarios' shared steps on stub contexts: when routing cannot be judged, the checks and sentences of
a shares run, the fault-injection helpers (probe counts, draining queued faults, counting who served)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from toolkit.validate.expectations import Expectations, Member
from toolkit.validate.observations import Observation
from toolkit.validate.scenarios import _faults, load_balancing
from toolkit.validate.scenarios._routing import routing_precondition, shares_checks
from toolkit.validate.settings import LoadBalancingSettings
from toolkit.validate.shares import SharesResult
from toolkit.validate.stats import judge_share
from toolkit.validate.verdict import Outcome

MEMBERS = (Member("east", 1, 1, "East US"), Member("north", 1, 1, "North Central US"), Member("west", 2, 1, "West US"))


def _expect(members: tuple[Member, ...] = MEMBERS, pool: str | None = "pool") -> Expectations:
    return Expectations(source="apimartifacts", api="chat", api_path="openai", key_header="api-key",
                        subscription_required=True, deployment="gpt", api_version="2024-10-21", pool=pool,
                        members=members)


def _ctx(expect: Expectations | None = None, ambiguous: dict[str, list[str]] | None = None, **settings: Any) -> Any:
    return SimpleNamespace(expect=expect or _expect(), settings=LoadBalancingSettings(prompts=["q"], **settings),
                           caller=SimpleNamespace(ambiguous_regions=lambda: ambiguous or {}), scenario="load-balancing")


# -- when routing cannot be judged -------------------------------------------------------------------------------

def test_routing_can_be_judged_on_a_pool_whose_members_have_their_own_regions() -> None:
    assert routing_precondition(_ctx()) is None


def test_why_routing_cannot_be_judged() -> None:
    assert routing_precondition(_ctx(_expect(members=()))) == (
        "the API 'chat' sends to no backend in apimartifacts: nothing to route")
    assert routing_precondition(_ctx(_expect(members=MEMBERS[:1], pool=None))) == (
        "the API 'chat' uses the single backend east: there is no pool to check")
    assert routing_precondition(_ctx(ambiguous={"East US": ["east", "north"], "West US": ["west", "x"]})) == (
        "the region header cannot tell east and north apart (both are 'East US'): give each backend its own region "
        "in toolkit.yaml or set backend_header")
    unnamed = (MEMBERS[0], Member("north", 1, 1, None), Member("west", 2, 1, ""))
    assert routing_precondition(_ctx(_expect(members=unnamed))) == (
        "north, west has no region in toolkit.yaml, so responses cannot be attributed to it")


# -- the checks of a shares run ------------------------------------------------------------------------------------

def _result(counts: dict[str, int], expected: dict[str, float], **fields: Any) -> SharesResult:
    """A finished run with the judgements of ``counts`` (tolerance 10%, alpha 1% for each share)."""
    routed = sum(counts.values())
    judgements = [judge_share(name, counts.get(name, 0), routed, share, 0.1, 0.01) for name, share in expected.items()]
    return SharesResult(budget=600, planned=700, counts=Counter(counts), routed=routed,
                        sent=fields.pop("sent", routed), judgements=judgements, **fields)


EXPECTED = {"east": 0.5, "north": 0.5, "west": 0.0}


def test_every_share_inside_passes_with_its_interval() -> None:
    checks = shares_checks(_ctx(), _result({"east": 1001, "north": 1000}, EXPECTED), "while healthy")
    assert [(c.name, c.outcome) for c in checks] == [("west", Outcome.PASS), ("east", Outcome.PASS),
                                                     ("north", Outcome.PASS)]  # those expected to get none first
    assert checks[1].sentence.startswith("east took 50% of 2001 requests (95% simultaneous CI ")
    assert checks[1].sentence.endswith("; expected 50% ± 10%")
    assert (checks[1].expected, checks[1].observed) == (0.5, 0.5002)  # the share to 4 decimals


def test_a_member_expected_to_get_none_that_served_fails_first() -> None:
    checks = shares_checks(_ctx(), _result({"east": 400, "north": 400, "west": 195}, EXPECTED), "while healthy")
    assert (checks[0].name, checks[0].outcome) == ("west", Outcome.FAIL)
    assert checks[0].sentence == "west took 20% of traffic while healthy; expected 0%"
    assert (checks[0].expected, checks[0].observed) == (0.0, 0.196)


def test_throttled_answers_make_a_lower_priority_member_serving_inconclusive() -> None:
    result = _result({"east": 400, "north": 400, "west": 195}, EXPECTED, statuses=Counter({200: 995, 429: 3, 503: 2}))
    checks = shares_checks(_ctx(), result, "while healthy")
    west = checks[0]
    assert (west.name, west.outcome) == ("west", Outcome.INCONCLUSIVE)
    assert west.sentence == ("west took 20% of traffic while healthy; expected 0%, but 5 responses were 429/503, which "
                             "legitimately moves traffic down the priorities: rerun when the target is not throttled")
    assert (west.expected, west.observed) == (0.0, 0.196)
    assert [c.name for c in checks] == ["west", "east", "north"]  # the other members are still judged
    # Other errors do not excuse it.
    result = _result({"east": 400, "north": 400, "west": 200}, EXPECTED, statuses=Counter({200: 1000, 500: 7}))
    assert shares_checks(_ctx(), result, "while healthy")[0].outcome is Outcome.FAIL


def test_a_share_off_its_weight_fails_naming_the_pool_settings() -> None:
    checks = shares_checks(_ctx(), _result({"east": 795, "north": 200}, {"east": 0.5, "north": 0.5}), "while healthy")
    east = checks[0]
    assert east.outcome is Outcome.FAIL and east.sentence.startswith("east took 80% of 995 requests (95% simultaneous")
    assert east.sentence.endswith("; expected 50% ± 10% while healthy: check the pool's weights and priorities as "
                                  "deployed")
    assert (east.expected, east.observed) == (0.5, 0.799)


def test_an_undecided_share_is_inconclusive_naming_the_budget() -> None:
    result = _result({"east": 2, "north": 1}, {"east": 0.5, "north": 0.5})
    checks = shares_checks(_ctx(), result, "while healthy")
    assert [(c.name, c.outcome) for c in checks] == [("east", Outcome.INCONCLUSIVE), ("north", Outcome.INCONCLUSIVE)]
    assert checks[0].sentence.endswith("; expected 50% ± 10%: not decided within the budget of 600 requests; raise "
                                       "max_requests or the tolerance")
    assert (checks[0].expected, checks[0].observed) == (0.5, round(2 / 3, 4))


@pytest.mark.parametrize("counts", [{}, {"east": 10, "north": 10}])
def test_answers_that_name_no_member_make_one_inconclusive_routing_check(counts: dict[str, int]) -> None:
    routed = sum(counts.values())
    result = _result(counts, EXPECTED, sent=routed + 9, statuses=Counter({200: routed + 6, 500: 3}),
                     unknown_regions=Counter({"Mars": 4, "(no header)": 2}), cache_hits=1)
    assert result.too_unrouted or routed == 0
    checks = shares_checks(_ctx(backend_header="x-region"), result, "while healthy")
    assert len(checks) == 1 and (checks[0].name, checks[0].outcome) == ("routing", Outcome.INCONCLUSIVE)
    assert checks[0].sentence == (
        f"9 of {routed + 9} responses named no pool member (statuses 200: {routed + 6}, 500: 3; unknown x-region "
        "values: Mars, (no header); 1 cache hits); fix the target or the regions in toolkit.yaml and run again")
    assert checks[0].observed == result.figures()


def test_a_few_answers_naming_no_member_with_none_routed_are_one_routing_check_too() -> None:
    result = _result({}, EXPECTED, sent=3, statuses=Counter({500: 3}))
    assert not result.too_unrouted
    checks = shares_checks(_ctx(), result, "")
    assert [c.name for c in checks] == ["routing"] and checks[0].sentence.startswith("3 of 3 responses named no pool")
    # One routed answer is judged member by member (undecided), not as a routing problem.
    one = shares_checks(_ctx(), _result({"east": 1}, EXPECTED, sent=3), "")
    assert [c.name for c in one] == ["west", "east", "north"]


def test_no_unknown_region_is_said_as_none() -> None:
    result = _result({}, EXPECTED, sent=6, statuses=Counter({500: 6}))
    assert "unknown x-ms-region values: none;" in shares_checks(_ctx(), result, "")[0].sentence


# -- load-balancing end to end on a stub target ------------------------------------------------------------------------

class _Traffic:
    """ask_unique_many drawing the serving member by ``weights`` (seeded), as a healthy pool would."""

    def __init__(self, weights: dict[str, int], seed: int = 7) -> None:
        import random

        self.rng, self.weights, self.phases = random.Random(seed), weights, set()

    def many(self, phase: str, count: int) -> Iterator[Observation]:
        self.phases.add(phase)
        for _ in range(count):
            backend = self.rng.choices(list(self.weights), weights=list(self.weights.values()))[0]
            yield Observation(0.0, "load-balancing", "p", 200, 1.0, backend, backend, False, 1, 1, None, None, None)


def _lb_ctx(weights: dict[str, int]) -> Any:
    ctx = _ctx()
    resets: list[int] = []
    ctx.target = SimpleNamespace(control=SimpleNamespace(reset=lambda: resets.append(1)))
    ctx.traffic = _Traffic(weights)
    ctx.budget, ctx.ask_unique_many, ctx.resets = 2000, ctx.traffic.many, resets
    return ctx


def test_load_balancing_passes_on_the_configured_split_and_says_so_in_one_sentence() -> None:
    ctx = _lb_ctx({"east": 1, "north": 1})
    verdict = load_balancing.run(ctx)
    assert verdict.outcome is Outcome.PASS and ctx.resets == [1]  # the faults of an earlier scenario are cleared
    assert verdict.scenario == "load-balancing" and ctx.traffic.phases == {"healthy"}
    routed = verdict.observed["requests_routed"]
    assert verdict.sentence.startswith(f"every share is within ±10% of its weight at 95% confidence after {routed} "
                                       f"requests (power budget {verdict.observed['power_budget']}); G-test p=")
    assert verdict.expected == {"shares": {"east": 0.5, "north": 0.5, "west": 0.0}, "tolerance": 0.1, "alpha": 0.05,
                                "source": "apimartifacts"}
    assert verdict.observed["fit_note"].startswith("G-test of the top group's counts") and verdict.requests == routed


def test_load_balancing_fails_on_a_skewed_split_and_is_inconclusive_without_a_pool() -> None:
    verdict = load_balancing.run(_lb_ctx({"east": 9, "north": 1}))
    assert verdict.outcome is Outcome.FAIL and verdict.scenario == "load-balancing"
    assert verdict.sentence.endswith("while the priority-1 backends were healthy: check the pool's weights and "
                                     "priorities as deployed")
    ctx = _lb_ctx({"east": 1})
    ctx.expect = _expect(members=MEMBERS[:1], pool=None)
    verdict = load_balancing.run(ctx)
    assert verdict.outcome is Outcome.INCONCLUSIVE and ctx.resets == [] and verdict.scenario == "load-balancing"
    assert verdict.sentence == "the API 'chat' uses the single backend east: there is no pool to check"


# -- fault injection helpers ---------------------------------------------------------------------------------------------

def test_fault_injection_needs_the_emulators_control_api() -> None:
    assert _faults.needs_control(SimpleNamespace(target=SimpleNamespace(control=object()), scenario="x")) is None
    reason = _faults.needs_control(SimpleNamespace(target=SimpleNamespace(control=None), scenario="circuit-breaker"))
    assert reason == ("circuit-breaker needs a backend to fail on demand: the emulator's control API does that; on "
                      "Azure there is no fault injection (priority-failover can burn quota with --allow-quota-burn)")


def test_probes_make_missing_a_serving_member_a_one_in_ten_thousand_chance() -> None:
    assert _faults.probe_count(0.0, 10) == 10 and _faults.probe_count(-1.0, 10) == 10
    assert _faults.probe_count(1.0, 10) == 10 and _faults.probe_count(1.0, 0) == 1
    assert _faults.probe_count(0.5, 1) == 14  # 0.5 ** 14 < 1e-4 < 0.5 ** 13
    assert _faults.probe_count(0.5, 20) == 20
    assert _faults.probe_count(0.1, 1) == math.ceil(math.log(1e-4) / math.log(0.9)) == 88
    assert 0.9 ** 88 < _faults.MISS_CHANCE < 0.9 ** 87


class _Faults:
    """A control API with faults queued per backend; each request consumes one of the first backend's."""

    def __init__(self, queued: dict[str, list[dict[str, Any]]], stop_after: int | None = None) -> None:
        self.queued, self.stop_after, self.asked = queued, stop_after, 0

    def backends(self) -> dict[str, Any]:
        return {name: {"pending_faults": faults} for name, faults in self.queued.items()}

    def ask_unique(self, phase: str) -> Any:
        self.asked += 1
        for faults in self.queued.values():
            if faults and (self.stop_after is None or self.asked <= self.stop_after):
                faults[0]["remaining"] = faults[0].get("remaining", 1) - 1
                if faults[0]["remaining"] <= 0:
                    faults.pop(0)
                return SimpleNamespace(status=429, phase=phase)
        return SimpleNamespace(status=200, phase=phase)


def _fault_ctx(control: _Faults) -> Any:
    return SimpleNamespace(target=SimpleNamespace(control=control), ask_unique=control.ask_unique)


def test_pending_counts_every_queued_fault_of_the_named_backends() -> None:
    control = _Faults({"a": [{"remaining": 3}, {}], "b": [{"remaining": 2}], "c": []})
    assert _faults.pending(_fault_ctx(control), ["a", "b", "c", "unknown"]) == 6
    assert _faults.pending(_fault_ctx(control), ["b"]) == 2


def test_drain_sends_until_the_faults_are_consumed_and_keeps_what_it_saw() -> None:
    control = _Faults({"a": [{"remaining": 3}]})
    seen: list[Any] = []
    assert _faults.drain(_fault_ctx(control), ["a"], "trip", 10, seen) == 0
    assert control.asked == 3 and [o.status for o in seen] == [429, 429, 429] and seen[0].phase == "trip"
    assert _faults.drain(_fault_ctx(_Faults({"a": []})), ["a"], "trip", 10) == 0


def test_drain_gives_up_after_its_cap_and_returns_what_is_left() -> None:
    control = _Faults({"a": [{"remaining": 5}]}, stop_after=2)  # the backend stops receiving traffic
    assert _faults.drain(_fault_ctx(control), ["a"], "trip", 4) == 3 and control.asked == 4


def test_served_names_errors_by_status_and_stops_after_three_times_the_probes() -> None:
    answers = iter([SimpleNamespace(ok=False, status=503, backend=None, cache_hit=False),
                    SimpleNamespace(ok=True, status=200, backend="east", cache_hit=False)] * 5)
    assert _faults.served(SimpleNamespace(ask_unique=lambda phase: next(answers)), "p", 4) == {
        "status 503": 2, "east": 2}
    hits = SimpleNamespace(ok=True, status=200, backend="east", cache_hit=True)
    asked: list[str] = []
    ctx = SimpleNamespace(ask_unique=lambda phase: asked.append(phase) or hits)
    assert _faults.served(ctx, "probe", 4) == {} and asked == ["probe"] * 12  # only cache hits: gives up at 3 x 4
