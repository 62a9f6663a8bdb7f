"""semantic-cache: exact repeats hit, paraphrases hit as their embedding distance predicts, unrelated prompts
never hit, vary-by isolates subscriptions, an entry lives the store's duration (emulator). Reports each distance and
the thresholds that would separate paraphrases from unrelated prompts."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, replace
from typing import Any

from toolkit.validate.context import Context
from toolkit.validate.traffic import RequestShape
from toolkit.validate.verdict import Check, Outcome, Verdict, combine, inconclusive


LIFETIME_TOLERANCE_S = 1.0  # an entry's lifetime is probed this long before and after its end (emulator's clock)


@dataclass
class _Asked:
    group: str
    text: str
    hit: bool
    status: int
    distance: float | None = None
    nearest: str | None = None


def _vectors(ctx: Context, texts: list[str]) -> tuple[Any, str | None]:
    if ctx.embed is None:
        return None, "no embeddings deployment is configured for the cache"
    try:
        return ctx.embed(texts), None
    except Exception as exc:  # noqa: BLE001 - any failure only means "no prediction"
        return None, f"the embeddings deployment could not be used ({exc})"


def run(ctx: Context) -> Verdict:
    rule = ctx.expect.cache
    if rule is None:
        return inconclusive(ctx.scenario, f"{ctx.expect.source} configures no semantic cache on {ctx.expect.api!r}: "
                                          "nothing to check")
    settings = ctx.settings
    control = ctx.target.control
    if control is not None:
        control.reset()
    # Own subscription: earlier scenarios' entries (same vary-by partition) must not answer these prompts.
    key = ctx.target.fresh_key(f"toolkit-validate-cache-{ctx.rng.randrange(10**6)}")
    # No system message: the embedded text is then exactly the prompt, whatever ignore-system-messages says.
    shape = RequestShape(max_tokens=settings.request.max_tokens, system=None)
    asked: list[_Asked] = []
    latencies: dict[bool, list[float]] = {True: [], False: []}

    def ask(group: str, index: int, text: str, *, subscription: str | None = key) -> _Asked:
        observation = ctx.caller.ask(ctx.scenario, f"{group}-{index + 1}", text, shape, phase=group, key=subscription)
        if observation.ok:
            latencies[observation.cache_hit].append(observation.latency_ms)
        item = _Asked(group, text, observation.cache_hit, observation.status)
        asked.append(item)
        return item

    for i, text in enumerate(settings.set1):
        ask("set1", i, text)
    for i, text in enumerate(settings.set2):
        ask("set2", i, text)
    for i, text in enumerate(settings.controls):
        ask("control", i, text)
    isolation, other = None, None
    by_subscription = any("Subscription" in v for v in rule.vary_by)
    if by_subscription:
        other = ctx.target.other_key(f"toolkit-validate-cache-other-{ctx.rng.randrange(10**6)}")
        if other is not None:
            isolation = ask("vary-by", 0, settings.set1[0], subscription=other)

    checks: list[Check] = []
    failed_calls = [a for a in asked if a.status != 200]
    if failed_calls:
        return inconclusive(ctx.scenario, f"{len(failed_calls)} of {len(asked)} cache requests failed (statuses "
                                          f"{sorted({a.status for a in failed_calls})}); run again when the target "
                                          "answers")
    checks.append(_repeats_check([a for a in asked if a.group == "set1"]))

    texts = [a.text for a in asked if a.group != "vary-by"]
    vectors, why_not = _vectors(ctx, texts)
    threshold, margin = rule.score_threshold, settings.distance_margin
    figures: dict[str, Any] = {"score_threshold": threshold}
    if vectors is None:
        checks.append(Check("set2", Outcome.INCONCLUSIVE, f"paraphrase hits cannot be predicted: {why_not}"))
        controls_hit = [a.text for a in asked if a.group == "control" and a.hit]
        checks.append(Check("controls", Outcome.FAIL if controls_hit else Outcome.PASS,
                            f"unrelated prompts {controls_hit} were served from cache" if controls_hit
                            else "no unrelated prompt was served from cache"))
    else:
        checks += _predicted(asked, vectors, threshold, margin)
        figures["pairs"] = [{"group": a.group, "prompt": a.text, "distance": a.distance, "nearest": a.nearest,
                             "hit": a.hit} for a in asked if a.distance is not None]
        figures["separating_thresholds"] = _separating(asked, vectors, settings.set1[0])
    if by_subscription and other is None:
        checks.append(Check("vary-by", Outcome.INCONCLUSIVE, "vary-by isolation needs a second subscription: set "
                            "TOOLKIT_VALIDATE_SECOND_KEY to another subscription's key"))
    if isolation is not None:
        checks.append(Check("vary-by", Outcome.FAIL if isolation.hit else Outcome.PASS,
                            "a second subscription got the first one's cached answer: vary-by "
                            f"{list(rule.vary_by)} is not applied as deployed" if isolation.hit else
                            "a second subscription was not served the first one's entry (vary-by holds)"))
    lifetime = _lifetime(ctx, rule.duration_s, shape) if by_subscription else None
    if lifetime is not None:
        checks.append(lifetime)
    figures["latency_ms"] = {"hit_median": _median(latencies[True]), "miss_median": _median(latencies[False])}
    verdict = combine(ctx.scenario, checks, expected={"score_threshold": threshold, "vary_by": list(rule.vary_by),
                                                      "duration_s": rule.duration_s},
                      observed=figures, requests=ctx.sent)
    if verdict.passed:  # a pass predicted the paraphrases: the embeddings, hence the separating thresholds, were had
        verdict = replace(verdict, sentence=(
            f"repeats hit, paraphrases hit or missed as their distance to threshold {threshold} predicts, no "
            f"unrelated prompt hit; hit {figures['latency_ms']['hit_median']} ms vs miss "
            f"{figures['latency_ms']['miss_median']} ms median; {figures['separating_thresholds']['text']}"))
    return verdict


def _repeats_check(set1: list[_Asked]) -> Check:
    """Every set-1 prompt asked again (its first asking stored it) must hit; positions are 1-based in set 1."""
    seen: set[str] = set()
    repeats: list[tuple[int, _Asked]] = []
    for position, item in enumerate(set1, start=1):
        if item.text in seen:
            repeats.append((position, item))
        seen.add(item.text)
    missed = [(position, item) for position, item in repeats if not item.hit]
    if not missed:
        return Check("set1", Outcome.PASS, f"{len(repeats)} of {len(repeats)} exact repeats hit", len(repeats),
                     len(repeats))
    texts = ", ".join(repr(text) for text in dict.fromkeys(item.text for _, item in missed))
    return Check("set1", Outcome.FAIL, f"exact repeats {[position for position, _ in missed]} of {texts} were answered "
                 "by a backend (new completion id): the cache does not store or look up", len(repeats),
                 len(repeats) - len(missed))


def _lifetime(ctx: Context, duration: float | None, shape: RequestShape) -> Check | None:
    """An entry lives the store's duration: asked again just before it ends it hits, just after it misses. Timed on
    the emulator's clock, in a partition of its own (a fresh subscription: no other entry can answer the probe).
    None where there is no clock to move (Azure) or no duration to check."""
    control = ctx.target.control
    key = ctx.target.fresh_key(f"toolkit-validate-cache-duration-{ctx.rng.randrange(10**6)}")
    tolerance = LIFETIME_TOLERANCE_S
    if control is None or key is None or duration is None or duration <= tolerance:
        return None
    text = ctx.settings.set1[0]

    def ask(phase: str) -> Any:
        return ctx.caller.ask(ctx.scenario, phase, text, shape, phase=phase, key=key)

    before_store = control.now()
    if not ask("duration-store").ok:
        return Check("duration", Outcome.INCONCLUSIVE, "the request that stores the probe entry failed")
    stored_by = control.now()
    control.advance(max(0.0, before_store + duration - tolerance - control.now()))
    alive = ask("duration-before-end")
    control.advance(max(0.0, stored_by + duration + tolerance - control.now()))
    gone = ask("duration-after-end")
    if not (alive.ok and gone.ok):
        return Check("duration", Outcome.INCONCLUSIVE, f"a probe failed ({alive.status}, {gone.status})")
    if not alive.cache_hit:
        return Check("duration", Outcome.FAIL, f"an entry was gone {duration - tolerance:g} s after it was stored; the "
                     f"store's duration is {duration:g} s: the deployed duration is shorter", duration,
                     f"< {duration - tolerance:g}")
    if gone.cache_hit:
        return Check("duration", Outcome.FAIL, f"an entry still answered {duration + tolerance:g} s after it was "
                     f"stored; the store's duration is {duration:g} s: the deployed duration is longer", duration,
                     f"> {duration + tolerance:g}")
    return Check("duration", Outcome.PASS, f"an entry lived {duration:g} ± {tolerance:g} s (the store's duration, "
                 "timed on the emulator's clock)", duration, duration)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def _predicted(asked: list[_Asked], vectors: Any, threshold: float, margin: float) -> list[Check]:
    """Replay the cache: each prompt's distance to the nearest stored entry predicts hit or miss."""
    stored: list[int] = []
    wrong_hits, wrong_misses, control_hits = [], [], []
    replayed = [a for a in asked if a.group != "vary-by"]  # the order they were sent, as ``vectors``
    for index, item in enumerate(replayed):
        if stored:
            distances = 1 - vectors[stored] @ vectors[index]
            best = int(distances.argmin())
            item.distance, item.nearest = round(float(distances[best]), 4), replayed[stored[best]].text
        if not item.hit:
            stored.append(index)
        if item.group == "control" and item.hit:
            control_hits.append(item)
        if item.group != "set2" or item.distance is None:
            continue
        if item.hit and item.distance > threshold + margin:
            wrong_hits.append(item)
        elif not item.hit and item.distance < threshold - margin:
            wrong_misses.append(item)
    checks = []
    if wrong_hits:
        a = wrong_hits[0]
        checks.append(Check("set2", Outcome.FAIL, f"the paraphrase {a.text!r} hit the cache at distance {a.distance} "
                            f"from {a.nearest!r}, beyond the score-threshold {threshold}: the deployed cache matches "
                            "more loosely than configured", threshold, a.distance))
    elif wrong_misses:
        a = wrong_misses[0]
        checks.append(Check("set2", Outcome.FAIL, f"the paraphrase {a.text!r} missed the cache at distance "
                            f"{a.distance} from {a.nearest!r}, within the score-threshold {threshold}: the deployed "
                            "cache matches more strictly than configured (or does not look up)", threshold, a.distance))
    else:
        checks.append(Check("set2", Outcome.PASS, "every paraphrase hit or missed as its distance predicts"))
    if control_hits:
        a = control_hits[0]
        checks.append(Check("controls", Outcome.FAIL, f"the unrelated prompt {a.text!r} was served from cache "
                            f"(distance {a.distance} to {a.nearest!r}, threshold {threshold})", 0, len(control_hits)))
    else:
        checks.append(Check("controls", Outcome.PASS, "no unrelated prompt was served from cache"))
    return checks


def _separating(asked: list[_Asked], vectors: Any, anchor: str) -> dict[str, Any]:
    """The thresholds that make every paraphrase of ``anchor`` hit while no control prompt does."""
    texts = [a for a in asked if a.group != "vary-by"]
    anchor_index = next(i for i, a in enumerate(texts) if a.text == anchor)
    distance = {i: float(1 - vectors[anchor_index] @ vectors[i]) for i in range(len(texts))}
    paraphrases = [distance[i] for i, a in enumerate(texts) if a.group == "set2" and a.text != anchor]
    controls = [distance[i] for i, a in enumerate(texts) if a.group == "control"]
    low, high = max(paraphrases, default=0.0), min(controls, default=1.0)
    if low < high:
        text = f"thresholds in [{low:.3f}, {high:.3f}) make every paraphrase hit and no control"
    else:
        text = f"no threshold separates the paraphrases (up to {low:.3f}) from the controls (from {high:.3f})"
    return {"low": round(low, 4), "high": round(high, 4), "separable": low < high, "text": text}
