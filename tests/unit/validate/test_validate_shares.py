"""Sequential share sampling on a stub target: decides inside, outside, or stops as unrouted."""

from __future__ import annotations

import random
from collections.abc import Iterator

from toolkit.validate.observations import Observation
from toolkit.validate.settings import LoadBalancingSettings
from toolkit.validate.shares import _too_unrouted, describe_share, percent, sample_shares
from toolkit.validate.stats import Decision, judge_share


class StubContext:
    """Just what sample_shares uses: settings, budget and ask_unique (answers drawn from ``weights``)."""

    def __init__(self, weights: dict[str | None, float], seed: int = 0, status: int = 200) -> None:
        self.settings = LoadBalancingSettings(prompts=["q"])
        self.budget = self.settings.max_requests
        self.rng = random.Random(seed)
        self.weights, self.status, self.calls = weights, status, 0

    def ask_unique(self, phase: str) -> Observation:
        self.calls += 1
        backend = self.rng.choices(list(self.weights), weights=list(self.weights.values()))[0]
        return Observation(0.0, "lb", "p", self.status, 1.0, backend, backend, False, 1, 1, None, None,
                           f"id-{self.calls}")

    def ask_unique_many(self, phase: str, count: int) -> Iterator[Observation]:
        return (self.ask_unique(phase) for _ in range(count))


EXPECTED = {"east": 0.5, "north": 0.5, "west": 0.0}


def test_the_configured_split_is_inside_and_stops_early() -> None:
    ctx = StubContext({"east": 1, "north": 1})
    result = sample_shares(ctx, EXPECTED, "healthy")  # type: ignore[arg-type]
    assert result.decision is Decision.INSIDE
    assert result.routed < result.planned and result.fit is not None and result.fit.unexpected == 0


def test_a_skewed_split_is_outside_at_the_first_look() -> None:
    ctx = StubContext({"east": 9, "north": 1})
    result = sample_shares(ctx, EXPECTED, "healthy")  # type: ignore[arg-type]
    assert result.decision is Decision.OUTSIDE
    assert result.routed == result.budget // 4 + (result.budget % 4 > 0)


def test_a_lower_priority_member_serving_is_outside() -> None:
    ctx = StubContext({"east": 1, "north": 1, "west": 1})
    assert sample_shares(ctx, EXPECTED, "healthy").decision is Decision.OUTSIDE  # type: ignore[arg-type]


def test_responses_naming_no_member_stop_the_run_undecided() -> None:
    ctx = StubContext({None: 1})
    result = sample_shares(ctx, EXPECTED, "healthy")  # type: ignore[arg-type]
    assert result.decision is Decision.UNDECIDED and result.too_unrouted and ctx.calls < 20


def test_a_small_budget_leaves_it_undecided() -> None:
    ctx = StubContext({"east": 1, "north": 1})
    ctx.budget = 40
    result = sample_shares(ctx, EXPECTED, "healthy")  # type: ignore[arg-type]
    assert result.decision is Decision.UNDECIDED and result.sent <= 40




def _answer(backend: str | None, *, status: int = 200, region: str | None = None, cache_hit: bool = False) -> Observation:
    return Observation(0.0, "lb", "p", status, 1.0, backend, region if region is not None else backend, cache_hit,
                       1, 1, None, None, None)


class ScriptedContext(StubContext):
    """Answers from a fixed list, in order, and remembers what each batch asked for."""

    def __init__(self, answers: list[Observation], budget: int) -> None:
        super().__init__({})
        self.answers, self.budget, self.asked = iter(answers), budget, []

    def ask_unique_many(self, phase: str, count: int) -> Iterator[Observation]:
        self.asked.append((phase, count))
        return (next(self.answers) for _ in range(count))


def _alternating(count: int) -> list[Observation]:
    return [_answer("east" if index % 2 else "north") for index in range(count)]


def test_only_answers_from_an_expected_member_count_and_the_others_are_tallied_apart() -> None:
    strays = [_answer("east", status=429), _answer("east", cache_hit=True), _answer(None, region="Sweden Central"),
              _answer(None, region=None), _answer("elsewhere")]
    later = [_answer("north", cache_hit=True), _answer(None, region="Sweden Central")]  # once 7 are a tenth or less
    ctx = ScriptedContext(strays + _alternating(100) + later + _alternating(2000), budget=2000)
    result = sample_shares(ctx, {"east": 0.5, "north": 0.5}, "healthy")  # type: ignore[arg-type]
    assert result.decision is Decision.INSIDE
    assert result.sent == result.routed + 7 and result.unrouted == 7 and not result.too_unrouted
    assert result.counts == {"east": result.routed // 2, "north": result.routed // 2}
    assert result.statuses == {200: result.sent - 1, 429: 1}
    assert result.cache_hits == 2 and result.unknown_regions == {"Sweden Central": 2, "(no header)": 1}
    assert [j.name for j in result.judgements] == ["east", "north"]
    assert all(j.total == result.routed for j in result.judgements)
    assert ctx.asked[0] == ("healthy", result.budget // 4 + (result.budget % 4 > 0))
    assert ctx.asked[1] == ("healthy", 7)  # the seven answers that did not count are asked for again


def test_each_batch_asks_for_what_the_look_lacks_within_the_budget() -> None:
    strays = [_answer(None, region="nowhere")] * 5
    ctx = ScriptedContext(strays + _alternating(100), budget=40)
    result = sample_shares(ctx, {"east": 0.5, "north": 0.5}, "p")  # type: ignore[arg-type]
    # Looks at 20, 30 and 40 routed answers; the budget (40 sent) ends the last one at 35.
    assert [count for _, count in ctx.asked] == [20, 5, 10, 5]
    assert (result.sent, result.routed, result.budget) == (40, 35, 40)
    assert result.decision is Decision.UNDECIDED and result.fit is not None


def test_nothing_routed_has_no_fit() -> None:
    ctx = ScriptedContext([_answer("east", status=500)] * 10, budget=10)
    result = sample_shares(ctx, {"east": 0.5, "north": 0.5}, "p")  # type: ignore[arg-type]
    assert result.routed == 0 and result.fit is None and result.decision is Decision.UNDECIDED
    assert result.figures()["goodness_of_fit"] is None


def test_too_many_answers_naming_no_member_leave_even_a_clear_share_undecided() -> None:
    # 20 answers from a member expected to get none would be OUTSIDE, but then six name no member at all.
    ctx = ScriptedContext([_answer("west")] * 20 + [_answer(None, region="nowhere")] * 6, budget=2000)
    result = sample_shares(ctx, EXPECTED, "p")  # type: ignore[arg-type]
    assert result.too_unrouted and result.routed == 20 and result.decision is Decision.UNDECIDED
    assert result.judgements[2].decision is Decision.OUTSIDE  # judged, but not the run's decision
    assert result.sent == 26  # it stopped at the sixth


def test_one_answer_can_decide_when_the_tolerance_is_tight() -> None:
    # Five answers naming no member (not too many yet) and one from west, which should get none: with a tolerance
    # of 0.5%, even one request shows it took more (its interval's low end is above 0.5%).
    ctx = ScriptedContext([_answer(None, region="nowhere")] * 5 + [_answer("west")], budget=6)
    ctx.settings = LoadBalancingSettings(prompts=["q"], tolerance=0.005)
    result = sample_shares(ctx, EXPECTED, "p")  # type: ignore[arg-type]
    assert (result.sent, result.routed, result.too_unrouted) == (6, 1, False)
    assert result.decision is Decision.OUTSIDE


def test_the_run_stops_once_more_than_a_tenth_and_more_than_five_answers_did_not_count() -> None:
    assert not _too_unrouted(10, 5) and _too_unrouted(10, 4)          # up to 50 sent: more than five
    assert not _too_unrouted(50, 45) and _too_unrouted(50, 44)
    assert not _too_unrouted(100, 90) and _too_unrouted(100, 89)      # from then on: more than a tenth
    assert not _too_unrouted(100, 94)


def test_the_figures_of_a_run() -> None:
    # Two of every three answers from east: 2/3 has more decimals than the figures keep.
    answers = [_answer(None, region="Mars")] + [_answer("north" if i % 3 == 2 else "east") for i in range(3000)]
    ctx = ScriptedContext(answers, budget=3000)
    result = sample_shares(ctx, {"east": 0.65, "north": 0.35}, "p")  # type: ignore[arg-type]
    figures = result.figures()
    east = result.judgements[0]
    assert figures["shares"]["east"] == {"count": east.count, "share": round(east.share, 4), "expected": 0.65,  # type: ignore[index]
                                         "ci": [round(east.low, 4), round(east.high, 4)], "decision": "inside"}
    assert [len(str(value).split(".")[1]) for value in (figures["shares"]["east"]["share"],  # type: ignore[index]
                                                        *figures["shares"]["east"]["ci"])] == [4, 4, 4]  # type: ignore[index]
    assert (figures["requests_routed"], figures["requests_sent"], figures["budget"], figures["power_budget"]) == (
        result.routed, result.routed + 1, result.budget, result.planned)
    fit = result.fit
    assert fit is not None and 0.0001 < fit.p_value < 0.9999 and len(str(fit.p_value)) > 6
    assert figures["goodness_of_fit"] == {"chi_square": fit.chi_square, "g": fit.g_statistic, "dof": 1,
                                          "p_value": round(fit.p_value, 4), "unexpected_requests": 0}
    assert figures["statuses"] == {"200": result.routed + 1} and figures["unknown_regions"] == {"Mars": 1}
    assert figures["cache_hits"] == 0


def test_a_share_in_words() -> None:
    judgement = judge_share("east", 31, 100, 0.5, 0.1, 0.05)
    assert describe_share(judgement, 0.95) == (
        f"east took 31% of 100 requests (95% simultaneous CI {judgement.low * 100:.0f}%-{judgement.high * 100:.0f}%)"
        "; expected 50%")
    assert percent(0.125) == "12%" and percent(1.0) == "100%"
