"""The demo's traffic: publish the config to the emulator, then show each configured behaviour with numbers.

A quick, self-checking tour (not the statistical validation): each check says what it expected from the
configuration, what it observed, and whether the two agree.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.config import load_config
from toolkit.config.models import GatewayConfig


@dataclass(frozen=True)
class Check:
    """One demo check: what was looked at, whether it matched the config, and the numbers."""

    name: str
    passed: bool
    detail: str


def _expected_shares(gateway: GatewayConfig, pool_name: str) -> dict[str, float]:
    from toolkit.emulator.gateway.pool import PoolMember, expected_shares

    pool = gateway.pool(pool_name)
    assert pool is not None
    return expected_shares([PoolMember(m.backend, m.priority, m.weight) for m in pool.members])


def run_demo(config_path: str | Path, *, request_count: int = 60, say: Callable[[str], None] = print) -> list[Check]:
    """Publish ``config_path``'s local environment to a fresh emulator and check its behaviour."""
    import httpx

    from toolkit.local import local_gateway

    config = load_config(config_path, "local")
    api = config.gateway.apis[0]
    environment = config.environment
    with local_gateway(config, seed=42) as gateway:
        emulator = gateway.emulator
        say(f"3/4 publish  {gateway.applied} resources through azure-mgmt-apimanagement to the emulator "
            f"({emulator.management_url})")
        say(f"4/4 traffic  to {gateway.gateway_url}/{api.path} ...")
        url = gateway.chat_url(api.path, environment.deployment, environment.openai_api_version)
        token = emulator.mint_token(audience=_audience(config)) if api.jwt else None
        with httpx.Client(timeout=30.0) as client:
            session = _Session(client, url, token, emulator)
            checks = [_routing(session, config.gateway, api.backend, request_count)]
            if api.semantic_cache:
                checks.append(_cache(session, gateway.subscription_key, api.semantic_cache.score_threshold))
            if api.token_limit and api.token_limit.remaining_tokens_header:
                checks.append(_tokens(session, gateway.subscription_key, api.token_limit.remaining_tokens_header))
            if api.jwt:
                checks.append(_jwt(session, gateway.subscription_key))
            pool = config.gateway.pool(api.backend)
            if pool and api.retry:
                checks.append(_breakers(session, config.gateway, api.backend, emulator))
    return checks


def _audience(config: Any) -> str:
    values = {nv.name: nv.value for nv in config.gateway.named_values}
    audience = config.gateway.apis[0].jwt.audiences[0]
    return values.get(audience.strip("{}"), audience) if audience.startswith("{{") else audience


class _Session:
    """Requests through the gateway, plus a look at their traces."""

    def __init__(self, client: Any, url: str, token: str | None, emulator: Any) -> None:
        self.client, self.url, self.token, self.emulator = client, url, token, emulator

    def ask(self, key: str, question: str, *, with_token: bool = True) -> Any:
        headers = {"api-key": key}
        if self.token and with_token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = {"messages": [{"role": "user", "content": question}], "max_tokens": 50}
        return self.client.post(self.url, json=body, headers=headers)

    def trace(self, response: Any) -> dict[str, Any]:
        from toolkit.emulator.gateway.app import TRACE_HEADER

        return self.emulator.gateway.traces.get(response.headers[TRACE_HEADER]) or {}


def _routing(session: _Session, gateway: GatewayConfig, backend: str, count: int) -> Check:
    if gateway.pool(backend) is None:
        return Check("routing", True, f"single backend {backend}: no pool to check")
    shares = _expected_shares(gateway, backend)
    served: Counter[str] = Counter()
    for i in range(count):
        # One subscription per request: the cache varies by subscription, so every request reaches the pool.
        key = session.emulator.create_subscription(f"demo-{i}")
        response = session.ask(key, "What is climate change?")
        served[session.trace(response).get("backend") or "none"] += 1
    parts, ok = [], served["none"] == 0
    for name, share in shares.items():
        got = served[name]
        sd = math.sqrt(count * share * (1 - share)) if 0 < share < 1 else 0.0
        ok = ok and abs(got - count * share) <= max(4 * sd, 0.5)
        parts.append(f"{name} {got}/{count} (expected {share:.0%})")
    return Check("pool priorities and weights", ok, "; ".join(parts))


def _cache(session: _Session, key: str, threshold: float) -> Check:
    first = session.ask(key, "What is climate change?")
    again = session.ask(key, "What is climate change?")
    paraphrase = session.ask(key, "Explain climate change.")
    lookup = next((e for e in session.trace(paraphrase).get("events", [])
                   if e["source"].endswith("semantic-cache-lookup")), {"message": "?", "data": {}})
    distance = lookup["data"].get("best_distance")
    repeated = again.json().get("id") == first.json().get("id")
    expect_hit = distance is not None and distance <= threshold
    consistent = (lookup["message"] == "hit") == expect_hit
    detail = (f"repeat served from cache: {repeated}; paraphrase distance {distance:.3f} vs score-threshold "
              f"{threshold} -> {lookup['message']}" if distance is not None else "no distance traced")
    return Check("semantic cache", repeated and consistent, detail)


def _tokens(session: _Session, key: str, header: str) -> Check:
    values = []
    for question in ("Name a colour.", "Name a planet.", "Name a river."):
        response = session.ask(key, question)
        values.append(int(response.headers.get(header, "-1")))
    ok = all(v >= 0 for v in values) and values == sorted(values, reverse=True) and values[0] > values[-1]
    return Check("token limit", ok, f"{header}: {' -> '.join(map(str, values))}")


def _jwt(session: _Session, key: str) -> Check:
    refused = session.ask(key, "Who are you?", with_token=False)
    accepted = session.ask(key, "Who are you?")
    ok = refused.status_code == 401 and accepted.status_code == 200
    return Check("JWT validation", ok, f"without a token {refused.status_code}, with a valid token {accepted.status_code}")


def _breakers(session: _Session, gateway: GatewayConfig, pool_name: str, emulator: Any) -> Check:
    pool = gateway.pool(pool_name)
    assert pool is not None
    top = min(m.priority or 0 for m in pool.members)
    primary = [m.backend for m in pool.members if (m.priority or 0) == top]
    fallback = {gateway.backend(m.backend).region or m.backend for m in pool.members if (m.priority or 0) != top}
    for name in primary:
        emulator.farm.backend(name).inject(429, count=1000)
    key = emulator.create_subscription("demo-breaker")
    regions = []
    for i in range(10):
        regions.append(session.ask(key, f"Breaker probe {i}: what is the weather on Mars?").headers.get("x-ms-region"))
    states = {name: breaker.state()["state"] for name, breaker in emulator.gateway.services.breakers().items()}
    tripped = all(states.get(name) == "open" for name in primary)
    spilled = regions[-1] in fallback
    for name in primary:
        emulator.farm.backend(name).reset()
    rule = gateway.backend(primary[0]).circuit_breaker
    emulator.clock.advance(61 if rule is None else _seconds(rule.trip_duration) + 1)
    back = session.ask(key, "Breaker probe after the trip duration").headers.get("x-ms-region")
    recovered = back not in fallback
    detail = (f"429s on {', '.join(primary)}: breakers {'open' if tripped else 'not open'}, traffic moved to "
              f"{regions[-1]}; after tripDuration it returned to {back}")
    return Check("circuit breaker and spill-over", tripped and spilled and recovered, detail)


def _seconds(duration: str) -> float:
    from toolkit.config.models import duration_seconds

    return duration_seconds(duration)
