"""Recovery probes count only answers that reached a backend: a cache hit replays the stored response's headers."""

from __future__ import annotations

from types import SimpleNamespace

from toolkit.validate.scenarios._faults import served


def test_cache_hits_are_not_counted_as_routing() -> None:
    answers = iter([("openai-eastus", False), ("openai-westus", True), ("openai-eastus", False),
                    ("openai-northcentralus", False)])

    def ask_unique(phase: str) -> SimpleNamespace:
        backend, hit = next(answers)
        return SimpleNamespace(backend=backend, cache_hit=hit, ok=True, status=200)

    counts = served(SimpleNamespace(ask_unique=ask_unique), "recovered", 3)
    assert counts == {"openai-eastus": 2, "openai-northcentralus": 1}
