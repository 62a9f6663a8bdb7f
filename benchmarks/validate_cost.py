"""What a verdict costs: requests and wall time per scenario on the emulator, beside the seed notebook's fixed
request counts (which end in bar charts, not a verdict), and the smallest weight deviation load-balancing
detects with 95% power at its default budget.

The same-run baseline is the seed notebook's load-balancing cell replayed here: 20 runs x 7 questions through
the same gateway, timed the same way, so the figures compare on this machine and this CPU load.
Run: python benchmarks/validate_cost.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEED_QUESTIONS = 7
# The seed notebook's cells: runs x questions (none for token limits or failover: it has no such cell).
SEED_REQUESTS = {"load-balancing": 20 * 7, "priority-failover": None, "circuit-breaker": 10 * 5,
                 "semantic-cache": 5 * 5 + 6 * 7, "token-limit": None, "auth": 1}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="validation runs per scenario (medians are printed)")
    args = parser.parse_args()

    import httpx

    import toolkit
    from toolkit.config import load_config
    from toolkit.local import local_gateway
    from toolkit.validate.settings import SCENARIOS, load_settings
    from toolkit.validate.stats import equivalence_budget, look_points, per_test_alpha, smallest_detectable

    config_path = REPO / "toolkit.yaml"
    with local_gateway(load_config(config_path, "local", environ={}), seed=1) as gateway:
        emulator = gateway.emulator
        url = gateway.chat_url("openai", "gpt-4o-mini", "2024-10-21")
        headers = {"api-key": gateway.subscription_key,
                   "Authorization": f"Bearer {emulator.mint_token(audience='api://toolkit-gateway')}"}
        with httpx.Client(timeout=30) as http:
            start = time.perf_counter()
            for run in range(20):
                for question in range(SEED_QUESTIONS):
                    http.post(url, headers=headers, json={"messages": [{"role": "user", "content":
                              f"Seed question {question} run {run}"}], "max_tokens": 16})
            seed_seconds = time.perf_counter() - start
        print(f"baseline: the seed notebook's load-balancing cell (140 requests) took {seed_seconds:.2f} s "
              f"here ({seed_seconds / 140 * 1000:.1f} ms per request), and gives no verdict")
        print(f"{'scenario':<18} {'verdicts':<22} {'requests (median)':>18} {'wall s (median)':>16} {'seed requests':>14}")
        for scenario in SCENARIOS:
            requests, seconds, outcomes = [], [], []
            for seed in range(args.runs):
                emulator.reset()
                started = time.perf_counter()
                verdict = toolkit.validate([scenario], config=config_path, env="local", emulator=emulator, seed=seed,
                                           environ={}).verdicts[0]
                seconds.append(time.perf_counter() - started)
                requests.append(verdict.requests)
                outcomes.append(verdict.outcome.value)
            seed = SEED_REQUESTS[scenario]
            summary = ", ".join(f"{outcomes.count(o)} {o}" for o in sorted(set(outcomes)))
            print(f"{scenario:<18} {summary:<22} {statistics.median(requests):>18.0f} "
                  f"{statistics.median(seconds):>16.2f} {seed if seed is not None else '-':>14}")

    settings = load_settings("load-balancing", REPO / "validations")
    shares = [0.5, 0.5, 0.0]  # the committed pool: 50/50 in priority 1, West US at priority 2
    budget = equivalence_budget(shares, settings.tolerance, settings.alpha, settings.power, settings.looks)
    alpha = per_test_alpha(settings.alpha, len(shares), len(look_points(budget, settings.looks)))
    deviation = smallest_detectable(budget, 0.5, settings.tolerance, alpha, power=0.95)
    print(f"load-balancing default budget {budget} requests (tolerance ±{settings.tolerance:.0%}, alpha "
          f"{settings.alpha}, power {settings.power}): a 50% share off by {deviation:.1%} or more fails with "
          f"95% power (within ±{settings.tolerance:.0%} passes; between: inconclusive at the budget)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
