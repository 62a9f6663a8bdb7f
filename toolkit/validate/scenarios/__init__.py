"""One module per scenario, each with `run(ctx) -> Verdict`; loaded by name when it runs."""

from __future__ import annotations

MODULES = {
    "load-balancing": "toolkit.validate.scenarios.load_balancing",
    "priority-failover": "toolkit.validate.scenarios.priority_failover",
    "circuit-breaker": "toolkit.validate.scenarios.circuit_breaker",
    "semantic-cache": "toolkit.validate.scenarios.semantic_cache",
    "token-limit": "toolkit.validate.scenarios.token_limit",
    "auth": "toolkit.validate.scenarios.auth",
}
