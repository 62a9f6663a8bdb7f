"""The semantic-cache scenario against a cache in miniature: entries per partition (the subscription when vary-by
names it), a hit within the deployed score-threshold of the nearest entry, a lifetime on a clock. Embeddings are
hand-made 2-D unit vectors, so every distance is known. Deployed as configured it passes; each deviation is named."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from fake_gateway import SubscriptionTarget
from toolkit.validate.expectations import CacheRule
from toolkit.validate.observations import Observation, ObservationLog
from toolkit.validate.scenarios import semantic_cache
from toolkit.validate.settings import SemanticCacheSettings
from toolkit.validate.verdict import Check, Outcome, Verdict

ANCHOR = "What is climate change?"
ANGLES = {  # degrees from the anchor: distance = 1 - cos(angle)
    ANCHOR: 0.0,
    "Explain climate change.": 10.0,        # 0.0152: within a threshold of 0.05
    "What causes climate change?": 25.0,    # 0.0937: beyond it
    "How do I bake sourdough bread?": 80.0,  # 0.8264: a control
    "What is the capital of Australia?": 120.0,
    "Why is the sea salty?": 160.0,         # far from everything: a second prompt of set 1
}
SETTINGS = SemanticCacheSettings(set1=[ANCHOR] * 3, set2=[ANCHOR, "Explain climate change.",
                                                          "What causes climate change?"],
                                 controls=["How do I bake sourdough bread?", "What is the capital of Australia?"])
RULE = CacheRule(score_threshold=0.05, embeddings_backend="embeddings", vary_by=("@(context.Subscription.Id)",),
                 duration_s=120.0)


def embed(texts: list[str]) -> np.ndarray:
    return np.array([[math.cos(math.radians(ANGLES[t])), math.sin(math.radians(ANGLES[t]))] for t in texts])


@dataclass
class CacheGateway:
    """Deployed: ``threshold``, partitions by subscription or not, entries living ``duration`` seconds."""

    threshold: float = 0.05
    by_subscription: bool = True
    duration: float = 120.0
    failing: int = 0         # answer the next calls with 500
    clock: float = 5000.0
    entries: list[tuple[str, Any, float]] = field(default_factory=list)
    resets: int = 0

    def reset(self) -> None:
        self.resets += 1
        self.entries.clear()

    def now(self) -> float:
        return self.clock

    def advance(self, seconds: float) -> None:
        self.clock += seconds

    def ask(self, text: str, key: str | None) -> tuple[int, bool]:
        if self.failing:
            self.failing -= 1
            return 500, False
        partition = (key or "target") if self.by_subscription else "*"
        vector = embed([text])[0]
        alive = [(v, at) for p, v, at in self.entries if p == partition and self.clock < at + self.duration]
        if alive and min(1 - float(v @ vector) for v, _ in alive) <= self.threshold:
            return 200, True
        self.entries.append((partition, vector, self.clock))
        return 200, False


class Scenario:
    """What semantic_cache.run reads from its Context."""

    def __init__(self, gateway: CacheGateway, rule: CacheRule | None = RULE, control: bool = True,
                 settings: SemanticCacheSettings = SETTINGS, embedder: Any = embed) -> None:
        self.gateway, self.scenario, self.settings, self.embed = gateway, "semantic-cache", settings, embedder
        self.expect = SimpleNamespace(cache=rule, source="apimartifacts", api="chat")
        self.rng = random.Random(2)
        self.log = ObservationLog()
        self.target = SubscriptionTarget(gateway if control else None)
        self.caller = SimpleNamespace(ask=self._ask)
        self.sent_with: list[tuple[str | None, int]] = []  # (subscription, max_tokens) of every request
        self.asked: list[tuple[str, str]] = []  # (phase, prompt) of every request

    @property
    def sent(self) -> int:
        return len(self.log.rows)

    def _ask(self, scenario: str, prompt_id: str, text: str, shape: Any, *, phase: str, key: str | None) -> Observation:
        assert shape.system is None  # the embedded text is exactly the prompt
        self.sent_with.append((key, shape.max_tokens))
        self.asked.append((phase, text))
        status, hit = self.gateway.ask(text, key)
        return self.log.add(Observation(self.gateway.clock, scenario, prompt_id, status, 2.0 if hit else 40.0, None,
                                        None, hit, None, None, None, None, None, phase))


def _run(gateway: CacheGateway, rule: CacheRule | None = RULE, **options: Any) -> tuple[Verdict, Scenario]:
    ctx = Scenario(gateway, rule, **options)
    return semantic_cache.run(ctx), ctx  # type: ignore[arg-type]


def _checks(verdict: Verdict) -> dict[str, Check]:
    return {c.name: c for c in verdict.checks}


def test_a_cache_deployed_as_configured_passes_every_check() -> None:
    gateway = CacheGateway()
    verdict, ctx = _run(gateway)
    assert verdict.outcome is Outcome.PASS, verdict.sentence
    checks = _checks(verdict)
    assert list(checks) == ["set1", "set2", "controls", "vary-by", "duration"]
    assert checks["set1"] == Check("set1", Outcome.PASS, "2 of 2 exact repeats hit", 2, 2)
    assert checks["set2"] == Check("set2", Outcome.PASS, "every paraphrase hit or missed as its distance predicts")
    assert checks["controls"] == Check("controls", Outcome.PASS, "no unrelated prompt was served from cache")
    assert checks["vary-by"] == Check("vary-by", Outcome.PASS, "a second subscription was not served the first one's "
                                      "entry (vary-by holds)")
    assert checks["duration"] == Check("duration", Outcome.PASS, "an entry lived 120 ± 1 s (the store's duration, timed "
                                       "on the emulator's clock)", 120.0, 120.0)
    assert verdict.sentence == ("repeats hit, paraphrases hit or missed as their distance to threshold 0.05 predicts, "
                                "no unrelated prompt hit; hit 2.0 ms vs miss 40.0 ms median; thresholds in [0.094, "
                                "0.826) make every paraphrase hit and no control")
    assert verdict.expected == {"score_threshold": 0.05, "vary_by": ["@(context.Subscription.Id)"], "duration_s": 120.0}
    figures = verdict.observed
    assert figures["score_threshold"] == 0.05 and figures["latency_ms"] == {"hit_median": 2.0, "miss_median": 40.0}
    assert figures["separating_thresholds"] == {"low": 0.0937, "high": 0.8264, "separable": True,
                                                "text": "thresholds in [0.094, 0.826) make every paraphrase hit and no "
                                                        "control"}
    pairs = {(p["group"], p["prompt"]): p for p in figures["pairs"]}
    assert pairs[("set2", "Explain climate change.")] == {"group": "set2", "prompt": "Explain climate change.",
                                                           "distance": 0.0152, "nearest": ANCHOR, "hit": True}
    assert pairs[("set2", "What causes climate change?")]["hit"] is False
    assert ("set1", ANCHOR) in pairs and len(figures["pairs"]) == 7  # every prompt but the first has a nearest entry
    assert [row.prompt_id for row in ctx.log.rows[:3]] == ["set1-1", "set1-2", "set1-3"]
    assert ctx.log.rows[3].prompt_id == "set2-1" and ctx.log.rows[6].prompt_id == "control-1"
    assert verdict.requests == ctx.sent == 3 + 3 + 2 + 1 + 3 and gateway.resets == 1
    assert [row.phase for row in ctx.log.rows[-3:]] == ["duration-store", "duration-before-end", "duration-after-end"]
    assert [row.prompt_id for row in ctx.log.rows[-4:]] == ["vary-by-1", "duration-store", "duration-before-end",
                                                            "duration-after-end"]
    assert [row.phase for row in ctx.log.rows[:9]] == ["set1"] * 3 + ["set2"] * 3 + ["control"] * 2 + ["vary-by"]
    assert verdict.scenario == "semantic-cache" and {row.scenario for row in ctx.log.rows} == {"semantic-cache"}
    own, other, duration = ctx.target.keys
    assert ctx.sent_with == [(own, 16)] * 8 + [(other, 16)] + [(duration, 16)] * 3


def test_own_subscriptions_from_the_runs_seeded_generator() -> None:
    _, ctx = _run(CacheGateway())
    draws = random.Random(2)
    assert ctx.target.keys == [f"toolkit-validate-cache-{draws.randrange(10**6)}",
                        f"toolkit-validate-cache-other-{draws.randrange(10**6)}",
                        f"toolkit-validate-cache-duration-{draws.randrange(10**6)}"]


def test_a_cache_that_does_not_store_fails_the_repeats() -> None:
    verdict, _ = _run(CacheGateway(threshold=-1.0))  # nothing is ever near enough
    assert _checks(verdict)["set1"] == Check("set1", Outcome.FAIL, f"exact repeats [2, 3] of {ANCHOR!r} were answered "
                                             "by a backend (new completion id): the cache does not store or look up",
                                             2, 0)


def test_set1_may_repeat_several_prompts_each_first_asking_stores_it() -> None:
    salty = "Why is the sea salty?"
    request = SETTINGS.request.model_copy(update={"max_tokens": 7})
    settings = SETTINGS.model_copy(update={"set1": [ANCHOR, salty, ANCHOR, salty, salty], "request": request})
    embedded: list[list[str]] = []
    verdict, ctx = _run(CacheGateway(), settings=settings, embedder=lambda texts: (embedded.append(texts),
                                                                                    embed(texts))[1])
    assert _checks(verdict)["set1"] == Check("set1", Outcome.PASS, "3 of 3 exact repeats hit", 3, 3)
    assert verdict.outcome is Outcome.PASS, verdict.sentence
    # set 1's first prompt is the anchor of the vary-by and lifetime probes and of the separating thresholds
    probes = [(phase, text) for phase, text in ctx.asked if phase not in ("set1", "set2", "control")]
    assert ("vary-by", ANCHOR) in probes and len(probes) > 2 and {text for _, text in probes} == {ANCHOR}
    assert verdict.observed["separating_thresholds"]["low"] == 0.0937  # 'What causes climate change?' from ANCHOR
    assert {tokens for _, tokens in ctx.sent_with} == {7}  # the scenario file's max_tokens
    # embedded: what was replayed (sets and controls, in order), not the vary-by probe
    assert embedded == [[text for phase, text in ctx.asked if phase in ("set1", "set2", "control")]]


def test_the_repeats_that_missed_are_named_by_position_and_prompt() -> None:
    def asked(text: str, hit: bool) -> semantic_cache._Asked:
        return semantic_cache._Asked("set1", text, hit, 200)

    set1 = [asked("A", False), asked("B", False), asked("A", True), asked("B", False), asked("B", False),
            asked("A", False)]
    assert semantic_cache._repeats_check(set1) == Check(
        "set1", Outcome.FAIL, "exact repeats [4, 5, 6] of 'B', 'A' were answered by a backend (new completion id): "
        "the cache does not store or look up", 4, 1)
    assert semantic_cache._repeats_check(set1[:3]) == Check("set1", Outcome.PASS, "1 of 1 exact repeats hit", 1, 1)


def test_a_looser_threshold_hits_a_paraphrase_beyond_the_configured_one() -> None:
    verdict, _ = _run(CacheGateway(threshold=0.2))
    assert _checks(verdict)["set2"] == Check(
        "set2", Outcome.FAIL, "the paraphrase 'What causes climate change?' hit the cache at distance 0.0937 from "
        f"{ANCHOR!r}, beyond the score-threshold 0.05: the deployed cache matches more loosely than configured", 0.05,
        0.0937)


def test_a_stricter_threshold_misses_a_paraphrase_within_the_configured_one() -> None:
    verdict, _ = _run(CacheGateway(threshold=0.01))
    assert _checks(verdict)["set2"] == Check(
        "set2", Outcome.FAIL, "the paraphrase 'Explain climate change.' missed the cache at distance 0.0152 from "
        f"{ANCHOR!r}, within the score-threshold 0.05: the deployed cache matches more strictly than configured (or "
        "does not look up)", 0.05, 0.0152)


def test_distances_within_the_margin_are_not_predicted() -> None:
    # 0.0152 is within 0.04 of 0.05 and 0.0937 within 0.045: neither is predicted either way.
    settings = SETTINGS.model_copy(update={"distance_margin": 0.045})
    verdict, _ = _run(CacheGateway(threshold=0.2), settings=settings)
    assert _checks(verdict)["set2"].outcome is Outcome.PASS
    verdict, _ = _run(CacheGateway(threshold=0.01), settings=settings)
    assert _checks(verdict)["set2"].outcome is Outcome.PASS


def test_a_control_served_from_cache_fails() -> None:
    verdict, _ = _run(CacheGateway(threshold=0.9))
    controls = _checks(verdict)["controls"]
    assert controls == Check("controls", Outcome.FAIL, "the unrelated prompt 'How do I bake sourdough bread?' was served "
                             f"from cache (distance 0.8264 to {ANCHOR!r}, threshold 0.05)", 0, 1)


def test_a_cache_shared_by_subscriptions_fails_vary_by() -> None:
    verdict, _ = _run(CacheGateway(by_subscription=False))
    assert _checks(verdict)["vary-by"] == Check("vary-by", Outcome.FAIL, "a second subscription got the first one's "
                                                "cached answer: vary-by ['@(context.Subscription.Id)'] is not applied as "
                                                "deployed")


@pytest.mark.parametrize(("duration", "sentence", "observed"), [
    (60.0, "an entry was gone 119 s after it was stored; the store's duration is 120 s: the deployed duration is "
           "shorter", "< 119"),
    (300.0, "an entry still answered 121 s after it was stored; the store's duration is 120 s: the deployed duration "
            "is longer", "> 121"),
])
def test_a_lifetime_other_than_configured(duration: float, sentence: str, observed: str) -> None:
    verdict, _ = _run(CacheGateway(duration=duration))
    assert _checks(verdict)["duration"] == Check("duration", Outcome.FAIL, sentence, 120.0, observed)


def test_no_lifetime_check_without_a_duration_a_clock_or_a_subscription_vary_by() -> None:
    for rule in (CacheRule(0.05, "embeddings", ("@(context.Subscription.Id)",), None),
                 CacheRule(0.05, "embeddings", ("@(context.Subscription.Id)",), 1.0),
                 CacheRule(0.05, "embeddings", (), 120.0)):
        verdict, ctx = _run(CacheGateway(), rule)
        assert "duration" not in _checks(verdict) and "duration-store" not in {row.phase for row in ctx.log.rows}
    verdict, _ = _run(CacheGateway(), CacheRule(0.05, "embeddings", (), 120.0))
    assert "vary-by" not in _checks(verdict) and verdict.outcome is Outcome.PASS


def test_a_failing_lifetime_probe_is_inconclusive() -> None:
    gateway = CacheGateway()
    ctx = Scenario(gateway)
    gateway.failing = 1
    shape = SimpleNamespace(system=None, max_tokens=16)
    assert semantic_cache._lifetime(ctx, 120.0, shape) == Check(  # type: ignore[arg-type]
        "duration", Outcome.INCONCLUSIVE, "the request that stores the probe entry failed")
    ctx.gateway.failing = 0
    check = semantic_cache._lifetime(ctx, 120.0, shape)  # type: ignore[arg-type]
    assert check is not None and check.outcome is Outcome.PASS

    class FailLater(CacheGateway):
        def ask(self, text: str, key: str | None) -> tuple[int, bool]:
            self.failing = 1 if self.entries else 0
            return super().ask(text, key)

    check = semantic_cache._lifetime(Scenario(FailLater()), 120.0, shape)  # type: ignore[arg-type]
    assert check == Check("duration", Outcome.INCONCLUSIVE, "a probe failed (500, 500)")

    class FailLast(CacheGateway):
        def ask(self, text: str, key: str | None) -> tuple[int, bool]:
            self.failing = 1 if len(self.entries) == 1 and self.clock > 5120 else 0
            return super().ask(text, key)

    check = semantic_cache._lifetime(Scenario(FailLast()), 120.0, shape)  # type: ignore[arg-type]
    assert check == Check("duration", Outcome.INCONCLUSIVE, "a probe failed (200, 500)")


def test_the_lifetime_probes_are_timed_from_the_store() -> None:
    gateway = CacheGateway()
    ctx = Scenario(gateway)
    semantic_cache._lifetime(ctx, 120.0, SimpleNamespace(system=None, max_tokens=16))  # type: ignore[arg-type]
    assert [row.time for row in ctx.log.rows] == [5000.0, 5119.0, 5121.0]


def test_failed_requests_make_the_run_inconclusive() -> None:
    verdict, ctx = _run(CacheGateway(failing=2))
    assert (verdict.outcome, verdict.sentence) == (Outcome.INCONCLUSIVE, "2 of 9 cache requests failed (statuses [500]); "
                                                   "run again when the target answers")
    assert verdict.scenario == "semantic-cache"


def test_nothing_configured_is_inconclusive() -> None:
    verdict, ctx = _run(CacheGateway(), None)
    assert (verdict.outcome, verdict.sentence, ctx.sent, verdict.scenario) == (
        Outcome.INCONCLUSIVE, "apimartifacts configures no semantic cache on 'chat': nothing to check", 0,
        "semantic-cache")


def test_without_embeddings_only_repeats_and_controls_are_judged() -> None:
    verdict, _ = _run(CacheGateway(), embedder=None)
    checks = _checks(verdict)
    assert checks["set2"] == Check("set2", Outcome.INCONCLUSIVE, "paraphrase hits cannot be predicted: no embeddings "
                                   "deployment is configured for the cache")
    assert checks["controls"] == Check("controls", Outcome.PASS, "no unrelated prompt was served from cache")
    assert "pairs" not in verdict.observed and verdict.outcome is Outcome.INCONCLUSIVE

    def broken(texts: list[str]) -> Any:
        raise RuntimeError("401 from the embeddings deployment")

    verdict, _ = _run(CacheGateway(threshold=0.9), embedder=broken)
    checks = _checks(verdict)
    assert checks["set2"].sentence == ("paraphrase hits cannot be predicted: the embeddings deployment could not be "
                                       "used (401 from the embeddings deployment)")
    assert checks["controls"] == Check("controls", Outcome.FAIL, "unrelated prompts ['How do I bake sourdough bread?'] "
                                       "were served from cache")


def test_on_azure_vary_by_needs_a_second_subscription_and_there_is_no_lifetime_check() -> None:
    verdict, ctx = _run(CacheGateway(), control=False)
    checks = _checks(verdict)
    assert checks["vary-by"] == Check("vary-by", Outcome.INCONCLUSIVE, "vary-by isolation needs a second subscription: "
                                      "set TOOLKIT_VALIDATE_SECOND_KEY to another subscription's key")
    assert "duration" not in checks and ctx.gateway.resets == 0
    ctx = Scenario(CacheGateway(), control=False)
    ctx.target.second_key = "second"
    verdict = semantic_cache.run(ctx)  # type: ignore[arg-type]
    assert _checks(verdict)["vary-by"].outcome is Outcome.PASS and verdict.outcome is Outcome.PASS


def test_no_threshold_separates_overlapping_paraphrases_and_controls() -> None:
    asked = [semantic_cache._Asked("set2", ANCHOR, False, 200), semantic_cache._Asked("set2", "What causes climate "
                                                                                    "change?", False, 200),
             semantic_cache._Asked("control", "Explain climate change.", False, 200)]
    vectors = embed([a.text for a in asked])
    assert semantic_cache._separating(asked, vectors, ANCHOR) == {
        "low": 0.0937, "high": 0.0152, "separable": False,
        "text": "no threshold separates the paraphrases (up to 0.094) from the controls (from 0.015)"}
    only_anchor = [semantic_cache._Asked("set1", ANCHOR, False, 200)]
    assert semantic_cache._separating(only_anchor, embed([ANCHOR]), ANCHOR)["low"] == 0.0  # no paraphrase, no control
    assert semantic_cache._median([]) is None and semantic_cache._median([1.0, 2.0, 4.5]) == 2.0
    assert semantic_cache._median([1.2345]) == 1.23
    no_controls = [semantic_cache._Asked("set2", ANCHOR, False, 200),
                   semantic_cache._Asked("set2", "Explain climate change.", False, 200)]
    assert semantic_cache._separating(no_controls, embed([a.text for a in no_controls]), ANCHOR)["high"] == 1.0
    tied = [semantic_cache._Asked("set2", ANCHOR, False, 200),
            semantic_cache._Asked("set2", "Explain climate change.", False, 200),
            semantic_cache._Asked("control", "Explain climate change.", False, 200)]
    assert semantic_cache._separating(tied, embed([a.text for a in tied]), ANCHOR) == {
        "low": 0.0152, "high": 0.0152, "separable": False,
        "text": "no threshold separates the paraphrases (up to 0.015) from the controls (from 0.015)"}


def test_only_paraphrases_are_predicted_a_control_hit_is_its_own_failure() -> None:
    settings = SETTINGS.model_copy(update={"set2": [ANCHOR, "Explain climate change."]})
    verdict, _ = _run(CacheGateway(threshold=0.9), settings=settings)
    checks = _checks(verdict)
    assert checks["set2"].outcome is Outcome.PASS and checks["controls"].outcome is Outcome.FAIL


@pytest.mark.parametrize("deployed", [0.0152, 0.01])
def test_a_paraphrase_exactly_on_the_threshold_is_not_predicted_either_way(deployed: float) -> None:
    # Configured threshold 0.0152, margin 0: "Explain climate change." lies exactly on it (0.0152), so a hit and a miss
    # are both accepted.
    rule = CacheRule(0.0152, "embeddings", ("@(context.Subscription.Id)",), 120.0)
    settings = SETTINGS.model_copy(update={"distance_margin": 0.0})
    verdict, _ = _run(CacheGateway(threshold=deployed), rule, settings=settings)
    assert _checks(verdict)["set2"].outcome is Outcome.PASS
