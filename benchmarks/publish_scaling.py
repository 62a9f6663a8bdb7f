"""How plan and apply grow with the number of resources: 10 / 100 / 300, against the full emulator.

The target is the whole local emulator (management plane over TLS, with the gateway listening to every
committed write), reached through the real azure-mgmt-apimanagement SDK, as `toolkit apply` does.
Each size gets a fresh emulator per apply mode (serial, and ``--parallel 4``), so every apply is a
fresh create of all resources; then a no-change plan (median of ``--runs``) and a no-change apply.

Goals: growth exponent <= 1.1 for plan and apply, measured at scale (the log-log slope from 100 to
300 resources; the whole-range slope, flattered by fixed costs, is printed too), and a no-change
apply makes zero writes. Same-run baseline: the raw SDK, one ``get`` per resource (no diff, no
lists): the unavoidable cost per resource that plan adds to.

Run: python3 benchmarks/publish_scaling.py [--sizes 10,100,300] [--runs 3]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from publish_plan_apply import _raw_gets  # noqa: E402  (the same baseline)
from render_lint import median_seconds  # noqa: E402

GOAL_EXPONENT = 1.1
POOL_MEMBERS = 30  # APIM's limit per pool


def scaled_config(resources: int) -> str:
    """toolkit.yaml text with exactly ``resources`` resources: breaker-guarded backends, a pool, an API and its
    policy, named values for the rest."""
    backends = max(2, resources // 2)
    named_values = resources - backends - 3  # + the pool, the API, the API policy
    if named_values < 0:
        raise ValueError(f"at least {backends + 3} resources")
    lines = ["apis:\n  - name: chat\n    path: openai\n    backend: pool\n    retry: {on_status: [429, 503]}\n",
             "backends:\n"]
    lines += [f"  - name: b{i:03d}\n    url: https://b{i:03d}.openai.azure.com/openai\n"
              f"    circuit_breaker: {{count: 3, interval: PT5M, status_codes: [429, 500-599], trip_duration: PT1M}}\n"
              for i in range(backends)]
    lines.append("pools:\n  - name: pool\n    members:\n")
    lines += [f"      - {{backend: b{i:03d}, priority: 1, weight: 10}}\n" for i in range(min(backends, POOL_MEMBERS))]
    if named_values:
        lines.append("named_values:\n")
        lines += [f"  - {{name: nv-{i:03d}, value: value-{i}}}\n" for i in range(named_values)]
    lines.append("environments:\n  local: {target: local}\n")
    return "".join(lines)


def loglog_slope(sizes: list[int], seconds: list[float]) -> float:
    """Least-squares slope of log(seconds) against log(size): the growth exponent."""
    xs, ys = [math.log(n) for n in sizes], [math.log(s) for s in seconds]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def linear_quadratic_fit(sizes: list[int], seconds: list[float]) -> tuple[float, float]:
    """(a, b) of seconds ~ a*n + b*n^2 (least squares, no intercept): the issue's way of reading growth."""
    s11 = sum(n * n for n in sizes)
    s12 = sum(n ** 3 for n in sizes)
    s22 = sum(n ** 4 for n in sizes)
    t1 = sum(n * t for n, t in zip(sizes, seconds))
    t2 = sum(n * n * t for n, t in zip(sizes, seconds))
    det = s11 * s22 - s12 * s12
    return (t1 * s22 - t2 * s12) / det, (s11 * t2 - s12 * t1) / det


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def measure(resources: int, parallel: int, runs: int) -> dict[str, Any]:
    """One fresh emulator: fresh plan + apply, then no-change plan (median) and apply, and the raw-GET baseline."""
    from toolkit.config import load_config
    from toolkit.config.models import EnvironmentConfig
    from toolkit.emulator.runtime import Emulator
    from toolkit.publish import apply_plan, connect_target, load_desired, plan_against

    with tempfile.TemporaryDirectory() as tmp:
        config_path = Path(tmp) / "toolkit.yaml"
        config_path.write_text(scaled_config(resources), encoding="utf-8")
        config = load_config(config_path, "local", environ={})
        desired = load_desired(config, templates_dir=REPO / "policies")
        assert len(desired.resources) == resources, (len(desired.resources), resources)
        with Emulator.from_config(config) as emulator, connect_target(
                EnvironmentConfig(target="local"), management_url=emulator.management_url,
                ca_bundle=emulator.ca_bundle_path, environ={"TOOLKIT_EMULATOR_TOKEN": emulator.control_token}) as target:
            counters = emulator.plane.counters
            plan = plan_against(target, desired, env="local")
            apply_s, outcome = _timed(lambda: apply_plan(target.client, plan, desired.resources, parallel=parallel))
            plan_s = median_seconds(lambda: plan_against(target, desired, env="local"), runs)
            again = plan_against(target, desired, env="local")
            counters.reset()
            noop = apply_plan(target.client, again, desired.resources, parallel=parallel)
            noop_writes = counters.snapshot()["writes"]
            client = target.client
            refs = sorted(desired.resources)
            base_s = median_seconds(lambda: _raw_gets(client.sdk, client.resource_group, client.service, refs), runs)
    return {"apply": apply_s, "plan": plan_s, "base": base_s, "written": len(outcome.done),
            "noop_writes": noop_writes + noop.writes, "noop_changes": len(again.actions)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,300")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    rows: dict[tuple[int, int], dict[str, Any]] = {}
    for size in sizes:
        for parallel in (1, 4):
            rows[size, parallel] = measure(size, parallel, args.runs)

    print("full emulator (gateway listening), real SDK over TLS; times in ms")
    print(f"{'resources':>9} {'apply serial':>13} {'apply par=4':>12} {'plan':>9} {'raw GET x n':>12} "
          f"{'plan/raw':>9} {'apply ms/res':>13}")
    for size in sizes:
        serial, par = rows[size, 1], rows[size, 4]
        print(f"{size:>9} {serial['apply'] * 1e3:>13.0f} {par['apply'] * 1e3:>12.0f} {serial['plan'] * 1e3:>9.0f} "
              f"{serial['base'] * 1e3:>12.0f} {serial['plan'] / serial['base']:>9.2f} "
              f"{serial['apply'] * 1e3 / size:>13.2f}")

    series = {"apply (serial)": [rows[s, 1]["apply"] for s in sizes],
              "apply (parallel 4)": [rows[s, 4]["apply"] for s in sizes],
              "plan": [rows[s, 1]["plan"] for s in sizes],
              "baseline raw GET": [rows[s, 1]["base"] for s in sizes]}
    checks: dict[str, bool] = {}
    for name, seconds in series.items():
        whole = loglog_slope(sizes, seconds)
        at_scale = loglog_slope(sizes[-2:], seconds[-2:])
        a, b = linear_quadratic_fit(sizes, seconds)
        print(f"growth {name:<20} exponent {at_scale:5.2f} at scale ({sizes[-2]}->{sizes[-1]}), {whole:5.2f} overall; "
              f"fit {a * 1e3:6.2f} ms/resource + {b * 1e6:6.2f} us/resource^2")
        if not name.startswith("baseline"):
            checks[f"{name}: growth exponent <= {GOAL_EXPONENT} at scale"] = at_scale <= GOAL_EXPONENT
    checks["every fresh apply writes each resource once"] = all(r["written"] == s for (s, _), r in rows.items())
    checks["a no-change apply makes zero writes"] = all(r["noop_writes"] == 0 == r["noop_changes"] for r in rows.values())
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}: {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
