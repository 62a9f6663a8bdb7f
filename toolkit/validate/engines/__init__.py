"""Engines: what actually sends a batch of prepared requests (and a soak) for validation and load.

Scenarios never see an engine: they ask the Context for unique-prompt traffic, and the Context hands
the prepared requests (traffic.Outgoing) to its engine, turning each Reply into an Observation.

- `builtin`: this process, one request at a time (sequential scenarios always use it).
- `locust`: a Locust master and N worker processes (more on other machines); the requests are dealt
  to the workers' users and sent concurrently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from toolkit.validate.traffic import Outgoing, Reply

ENGINES = ("builtin", "locust")
# Scenarios whose traffic is a sample (many independent requests): a concurrent engine may send it.
# The others are sequential by nature (trip timing, token counting, cache order, auth cases).
CONCURRENT_SCENARIOS = ("load-balancing", "priority-failover")


@dataclass(frozen=True)
class SoakPlan:
    """One request template sent with a fresh nonce by every user until ``seconds`` have passed."""

    outgoing: Outgoing
    prompts: tuple[str, ...]
    nonce_words: tuple[str, ...]
    wanted: tuple[str, ...]     # response headers to bring back (the backend header)
    seconds: float
    users: int


class Engine(Protocol):
    name: str

    def send_all(self, outgoing: Sequence[Outgoing], wanted: Sequence[str]) -> list[Reply]:
        """Send every request once; the replies in the same order."""

    def soak(self, plan: SoakPlan) -> list[Reply]:
        """Replies of a soak (bodies left out)."""

    def close(self) -> None: ...


def open_engine(name: str, *, users: int, workers: int, http: Any = None) -> Engine:
    """The engine called ``name`` (Locust starts its master and workers here)."""
    if name not in ENGINES:
        from toolkit.errors import InputError

        raise InputError(f"unknown engine {name!r}: use one of {', '.join(ENGINES)}")
    if name == "locust":
        from toolkit.validate.engines.locust_engine import LocustEngine

        return LocustEngine(users=users, workers=workers).start()
    from toolkit.validate.engines.builtin import BuiltinEngine

    return BuiltinEngine(http)
