"""Mutations: a deliberately different config published to the emulator through the management API;
validating against the committed toolkit.yaml fails the matching scenario with a sentence naming the fault."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import toolkit


def _pool(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return doc["pools"][0]["members"]


def _api(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["apis"][0]


def _breakers(doc: dict[str, Any], **changes: Any) -> None:
    for backend in doc["backends"]:
        if "circuit_breaker" in backend:
            backend["circuit_breaker"] = {**backend["circuit_breaker"], **changes}


def _no_breakers(doc: dict[str, Any]) -> None:
    for backend in doc["backends"]:
        backend.pop("circuit_breaker", None)




MUTATIONS = {
    "weights-changed": ("load-balancing", lambda d: (_pool(d)[0].update(weight=90), _pool(d)[1].update(weight=10)),
                        ["openai-eastus", "expected 50%"]),
    "priorities-flattened": ("load-balancing", lambda d: _pool(d)[2].update(priority=1, weight=50),
                             ["openai-westus", "expected 0%"]),
    "breaker-count-and-trip-changed": ("circuit-breaker", lambda d: _breakers(d, count=6, trip_duration="PT2M"),
                                       ["kept receiving traffic", "3 failures"]),
    "breaker-removed": ("circuit-breaker", _no_breakers, ["kept receiving traffic", "breaker is missing"]),
    "score-threshold-loosened": ("semantic-cache", lambda d: _api(d)["semantic_cache"].update(score_threshold=0.6),
                                 ["score-threshold 0.05", "more loosely"]),
    "token-limit-raised": ("token-limit", lambda d: _api(d)["token_limit"].update(tokens_per_minute=200000),
                           ["no 429", "tokens per minute is 20000"]),
    "vary-by-removed": ("semantic-cache", lambda d: _api(d)["semantic_cache"].pop("vary_by"),
                        ["second subscription", "vary-by"]),
    "jwt-audience-changed": ("auth", lambda d: d["named_values"][1].update(value="api://someone-else"),
                             ["refuses a correct caller", "api://toolkit-gateway"]),
    "validate-jwt-removed": ("auth", lambda d: _api(d).pop("jwt"), ["without a JWT got 200", "expected 401"]),
    # found by an audit: each passed (or was inconclusive) before
    "breaker-count-lower": ("circuit-breaker", lambda d: _breakers(d, count=2),
                            ["stopped receiving traffic after only", "deployed breaker count is lower"]),
    "breaker-counts-every-5xx-too": ("circuit-breaker", lambda d: _breakers(d, status_codes=[429, "500-599"]),
                                     ["failures with 500, which its rule does not count", "counts more statuses"]),
    "retry-removed": ("circuit-breaker", lambda d: _api(d).pop("retry"),
                      ["answered 429 to the client", "deployed retry is missing or does not cover 429"]),
    "retry-on-503-only": ("circuit-breaker", lambda d: _api(d)["retry"].update(on_status=[503]),
                          ["answered 429 to the client"]),
    "no-failover-without-breakers": ("priority-failover", _no_breakers,
                                     ["did not leave the pool", "deployed breakers do not take them out"]),
    "token-counter-shared": ("token-limit", lambda d: _api(d)["token_limit"].update(counter_key="all"),
                             ["second subscription got 429", "not per counter-key"]),
    "cache-duration-shortened": ("semantic-cache", lambda d: _api(d)["semantic_cache"].update(duration=10),
                                 ["an entry was gone", "the deployed duration is shorter"]),
    "cache-duration-longer": ("semantic-cache", lambda d: _api(d)["semantic_cache"].update(duration=600),
                              ["still answered", "the deployed duration is longer"]),
    "jwt-scheme-not-required": ("auth", lambda d: _api(d)["jwt"].update(require_scheme=None),
                                ["without its 'Bearer' scheme (require-scheme) got 200"]),
    "jwt-expiry-not-required": ("auth", lambda d: _api(d)["jwt"].update(require_expiration_time=False),
                                ["a JWT without an expiry (require-expiration-time) got 200"]),
}


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_the_matching_scenario_fails_and_names_the_fault(publish_mutated: Any, config_path: Path,
                                                        mutation: str) -> None:
    scenario, mutate, words = MUTATIONS[mutation]
    with publish_mutated(mutate) as gateway:
        run = toolkit.validate([scenario], config=config_path, env="local", emulator=gateway.emulator, seed=1,
                               environ={})
    verdict = run.verdicts[0]
    assert verdict.outcome.value == "fail", verdict.sentence
    for word in words:
        assert word in verdict.sentence, verdict.sentence
