"""A gateway in miniature for the fault scenarios' unit tests: a pool by priority and weight, a circuit breaker per
backend, retry, faults queued on backends and a clock, behind the emulator's control API surface (reset, fail,
heal, advance, now, backends). Its rules are the *deployed* ones, which a test makes differ from the configured
ones (``Expectations``) to see each verdict. Milliseconds per scenario instead of the emulator's seconds, so the
mutation run of the scenarios can afford every case; the e2e tests show the same on the real emulator."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from toolkit.validate.expectations import Breaker, Expectations, Member
from toolkit.validate.observations import Observation, ObservationLog


@dataclass
class DeployedBreaker:
    """A breaker as the gateway runs it: trips at ``count`` counted failures, out for ``trip_s`` (or Retry-After)."""

    count: int
    statuses: tuple[tuple[int, int], ...] = ((429, 429),)
    trip_s: float = 60.0
    accept_retry_after: bool = False
    failures: int = 0
    open_until: float = 0.0

    def counts(self, status: int) -> bool:
        return any(low <= status <= high for low, high in self.statuses)


@dataclass
class FakeGateway:
    members: list[Member]
    breakers: dict[str, DeployedBreaker] = field(default_factory=dict)
    retry_statuses: tuple[int, ...] = ()
    retry_count: int = 0
    seed: int = 3
    clock: float = 1000.0
    seconds_per_request: float = 0.0  # emulator time each request takes (a clock running at speed)
    replayed: int = 0  # the next answers that are semantic-cache hits (east's stored answer, no backend reached)
    faults: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    log: ObservationLog = field(default_factory=ObservationLog)
    failed: list[tuple[str, int, int]] = field(default_factory=list)  # every fail() call: (backend, status, count)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    # -- the control API ----------------------------------------------------------------------------------

    def reset(self) -> None:
        self.faults.clear()
        for breaker in self.breakers.values():
            breaker.failures, breaker.open_until = 0, 0.0

    def fail(self, backend: str, status: int, count: int, retry_after: float | None = None) -> None:
        self.failed.append((backend, status, count))
        self.faults.setdefault(backend, []).append({"status": status, "remaining": count, "retry_after": retry_after})

    def heal(self, backend: str) -> None:
        self.faults.pop(backend, None)

    def advance(self, seconds: float) -> None:
        assert seconds >= 0
        self.clock += seconds

    def now(self) -> float:
        return self.clock

    def backends(self) -> dict[str, Any]:
        """Every simulated backend, in the pool or not (as the emulator lists them)."""
        names = dict.fromkeys([*(m.backend for m in self.members), *self.faults])
        return {name: {"pending_faults": [dict(f) for f in self.faults.get(name, [])]} for name in names}

    # -- traffic ------------------------------------------------------------------------------------------

    def ask(self, scenario: str, phase: str) -> Observation:
        """One client request: the pool picks, a failure the retry covers is tried again (retry_count times)."""
        try:
            return self._ask(scenario, phase)
        finally:
            self.clock += self.seconds_per_request

    def _ask(self, scenario: str, phase: str) -> Observation:
        if self.replayed:
            self.replayed -= 1
            return self.log.add(Observation(self.clock, scenario, "p", 200, 1.0, "east", "East US", True, 1, 1, None,
                                            None, None, phase))
        for _ in range(self.retry_count + 1):
            backend = self._pick()
            if backend is None:
                return self._record(scenario, phase, 503, None)
            status = self._answer(backend)
            if status not in self.retry_statuses:
                break
        return self._record(scenario, phase, status, backend)

    def _pick(self) -> str | None:
        available = [m for m in self.members if self._available(m.backend)]
        if not available:
            return None
        top = min(m.priority for m in available)
        group = [m for m in available if m.priority == top]
        return self.rng.choices([m.backend for m in group], weights=[m.weight or 1 for m in group])[0]

    def _available(self, backend: str) -> bool:
        breaker = self.breakers.get(backend)
        return breaker is None or breaker.open_until <= self.clock

    def _answer(self, backend: str) -> int:
        queued = self.faults.get(backend)
        if not queued:
            return 200
        fault = queued[0]
        fault["remaining"] -= 1
        if fault["remaining"] <= 0:
            queued.pop(0)
        breaker = self.breakers.get(backend)
        if breaker is not None and breaker.counts(fault["status"]):
            breaker.failures += 1
            if breaker.failures >= breaker.count:
                announced = fault["retry_after"] if breaker.accept_retry_after else None
                breaker.open_until = self.clock + (announced if announced is not None else breaker.trip_s)
                breaker.failures = 0
        return int(fault["status"])

    def _record(self, scenario: str, phase: str, status: int, backend: str | None) -> Observation:
        return self.log.add(Observation(self.clock, scenario, "p", status, 1.0, backend, backend, False, 1, 1, None,
                                        None, None, phase))


MEMBERS = [Member("east", 1, 50, "East US"), Member("north", 1, 50, "North Central US"), Member("west", 2, 100, "West US")]
RULE = Breaker(count=3, percentage=None, interval_s=300, status_ranges=((429, 429),), trip_s=60, accept_retry_after=False)


def configured(members: list[Member] = MEMBERS, breakers: dict[str, Breaker] | None = None, retry_count: int = 2,
               retry_statuses: tuple[int, ...] = (429, 503)) -> Expectations:
    """What toolkit.yaml says: the sample's pool, one rule on every member, retry on 429 and 503."""
    return Expectations(source="apimartifacts", api="chat", api_path="openai", key_header="api-key",
                        subscription_required=True, deployment="gpt", api_version="2024-10-21", pool="pool",
                        members=tuple(members),
                        breakers={m.backend: RULE for m in members} if breakers is None else breakers,
                        retry_count=retry_count, retry_statuses=retry_statuses)


def deployed_as(expect: Expectations, **overrides: Any) -> FakeGateway:
    """A gateway deployed exactly as ``expect`` says (``overrides``: FakeGateway fields that differ)."""
    breakers = {name: DeployedBreaker(rule.count or 1, rule.status_ranges, rule.trip_s, rule.accept_retry_after)
                for name, rule in expect.breakers.items()}
    settings = {"members": list(expect.members), "breakers": breakers, "retry_statuses": expect.retry_statuses,
                "retry_count": expect.retry_count, **overrides}
    return FakeGateway(**settings)


class SubscriptionTarget:
    """A target's subscriptions: on the emulator (``control`` set) every name gets a key of its own, recorded in
    ``keys``; on Azure none can be made, and the second subscription is ``second_key`` when one is configured."""

    def __init__(self, control: Any) -> None:
        self.control = control
        self.keys: list[str] = []
        self.second_key: str | None = None

    def fresh_key(self, name: str) -> str | None:
        if self.control is None:
            return None
        self.keys.append(name)
        return name

    def other_key(self, name: str) -> str | None:
        return self.fresh_key(name) if self.control is not None else self.second_key


class ScenarioContext:
    """What a scenario reads from its Context; ``gateway`` None: a target without a control API (Azure)."""

    def __init__(self, scenario: str, expect: Expectations, gateway: FakeGateway | None, settings: Any, *,
                 control: bool = True) -> None:
        """``control`` False: the gateway takes traffic but offers no control API (APIM on Azure)."""
        self.scenario, self.expect, self.settings, self.gateway = scenario, expect, settings, gateway
        self.allow_quota_burn = False
        self.target = SimpleNamespace(control=gateway if control else None)
        self.asked: list[dict[str, Any]] = []  # the options of every ask() (the Azure quota burst's)
        self.slept: list[float] = []
        self.caller = SimpleNamespace(ambiguous_regions=lambda: {})
        self.log = gateway.log if gateway is not None else ObservationLog()
        self.budget = settings.max_requests

    @property
    def sent(self) -> int:
        return len(self.log.rows)

    def ask_unique(self, phase: str) -> Observation:
        assert self.gateway is not None
        return self.gateway.ask(self.scenario, phase)

    def prompt(self) -> tuple[str, str]:
        return "q", "p1"

    def ask(self, prompt_id: str, prompt: str, *, phase: str = "", **options: Any) -> Observation:
        assert self.gateway is not None
        self.asked.append({"prompt_id": prompt_id, "prompt": prompt, "phase": phase, **options})
        return self.gateway.ask(self.scenario, phase)

    def sleep(self, seconds: float) -> None:
        """On Azure time passes: the gateway's clock moves."""
        assert self.gateway is not None
        self.slept.append(seconds)
        self.gateway.advance(seconds)

    def ask_unique_many(self, phase: str, count: int) -> Iterator[Observation]:
        return (self.ask_unique(phase) for _ in range(count))

    def phases(self) -> list[str]:
        """The phases of the requests sent, each once, in order."""
        return list(dict.fromkeys(row.phase for row in self.log.rows))
