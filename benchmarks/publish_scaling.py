"""How plan and apply grow with the number of resources: 10 / 100 / 300, against the full emulator.

The target is the whole local emulator (management plane over TLS, with the gateway listening to every
committed write), reached through the real azure-mgmt-apimanagement SDK, as `toolkit apply` does.
Each size gets fresh emulators per apply mode (serial, and ``--parallel 4``), so every apply is a fresh
create of all resources; then a no-change plan and a no-change apply. ``--runs`` rounds measure every size
and mode once each, the order reversed every other round, and the medians are reported: a change in the
shared machine's load spreads over every size instead of landing on one. The imported modules are frozen
out of the garbage collector after the warm-up (``gc.freeze``), so a full collection during a measurement
costs in proportion to the measured work's own objects, not the ~100k objects of the SDK's modules.
Times are wall and CPU (of the whole process: the client and the in-process emulator); the growth goal
is judged on CPU time, which other load on a shared machine does not distort.

Goals: growth exponent <= 1.1 for plan and apply, measured at scale (the log-log slope from 100 to
300 resources; the whole-range slope, flattered by fixed costs, is printed too), and a no-change
apply makes zero writes. Same-run baseline: the raw SDK, one ``get`` per resource (no diff, no
lists): the unavoidable cost per resource that plan adds to.

Run: python3 benchmarks/publish_scaling.py [--sizes 10,100,300] [--runs 7]
"""

from __future__ import annotations

import argparse
import gc
import inspect
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from publish_plan_apply import _raw_gets  # noqa: E402  (the same baseline)

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


def _timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of this whole process: client and emulator threads, result)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def measure_once(resources: int, parallel: int) -> dict[str, Any]:
    """One fresh emulator: fresh plan + apply, a no-change plan and apply, and the raw-GET baseline."""
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
            options = {"parallel": parallel} if parallel > 1 else {}  # (so that older trees run it too)
            apply_s, apply_cpu, outcome = _timed(lambda: apply_plan(target.client, plan, desired.resources, **options))
            plan_s, plan_cpu, again = _timed(lambda: plan_against(target, desired, env="local"))
            counters.reset()
            noop = apply_plan(target.client, again, desired.resources, **options)
            noop_writes = counters.snapshot()["writes"]
            client = target.client
            refs = sorted(desired.resources)
            base_s, base_cpu, _ = _timed(lambda: _raw_gets(client.sdk, client.resource_group, client.service, refs))
    return {"apply": apply_s, "apply_cpu": apply_cpu, "plan": plan_s, "plan_cpu": plan_cpu, "base": base_s,
            "base_cpu": base_cpu, "written": len(outcome.done), "noop_writes": noop_writes + noop.writes,
            "noop_changes": len(again.actions)}


def measure_rounds(sizes: list[int], modes: tuple[int, ...], runs: int) -> dict[tuple[int, int], list[dict[str, Any]]]:
    """``runs`` rounds, each measuring every (size, mode) once on fresh emulators, the order reversed every other
    round: a change in the shared machine's load spreads over all sizes instead of landing on one."""
    cells = [(size, mode) for size in sizes for mode in dict.fromkeys(modes)]
    samples: dict[tuple[int, int], list[dict[str, Any]]] = {cell: [] for cell in cells}
    for round_index in range(runs):
        for cell in cells if round_index % 2 == 0 else reversed(cells):
            gc.collect()  # each cell starts from the same heap: no collection owed by the previous one
            samples[cell].append(measure_once(*cell))
    return samples


def summarise(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the rounds of one (size, mode)."""
    summary: dict[str, Any] = {key: statistics.median(s[key] for s in samples)
                               for key in ("apply", "apply_cpu", "plan", "plan_cpu", "base", "base_cpu")}
    summary["written"] = min(s["written"] for s in samples)
    summary["noop_writes"] = max(s["noop_writes"] for s in samples)
    summary["noop_changes"] = max(s["noop_changes"] for s in samples)
    return summary


def per_round_exponents(samples: dict[tuple[int, int], list[dict[str, Any]]], small: int, large: int, mode: int,
                        key: str) -> list[float]:
    """The growth exponent from ``small`` to ``large`` resources within each round (sizes measured close in time)."""
    return [math.log(b[key] / a[key]) / math.log(large / small)
            for a, b in zip(samples[small, mode], samples[large, mode], strict=True)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,300")
    parser.add_argument("--runs", type=int, default=7, help="alternated rounds (medians are reported)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    from toolkit.publish import apply_plan

    modes = (1, 4) if "parallel" in inspect.signature(apply_plan).parameters else (1, 1)  # a tree before --parallel
    measure_once(sizes[0], 1)  # warm-up (imports, first TLS set-up), not counted
    # The imports (the SDK's models: ~100k objects) stay for the whole run: frozen, full collections no
    # longer traverse them, and what a collection costs during a measurement is the measured work's own.
    gc.collect()
    gc.freeze()
    samples = measure_rounds(sizes, modes, args.runs)
    rows = {cell: summarise(cell_samples) for cell, cell_samples in samples.items()}

    print(f"full emulator (gateway listening), real SDK over TLS; medians of {args.runs} alternated rounds of fresh "
          "emulators; "
          "ms wall (ms CPU of the process: client + emulator)")
    print(f"{'resources':>9} {'apply serial':>16} {'apply par=4':>16} {'plan':>16} {'raw GET x n':>16} "
          f"{'plan/raw':>9} {'apply/raw':>9}")
    for size in sizes:
        serial, par = rows[size, 1], rows[size, modes[1]]

        def cell(row: dict[str, Any], key: str) -> str:
            return f"{row[key] * 1e3:7.0f} ({row[key + '_cpu'] * 1e3:5.0f})"

        print(f"{size:>9} {cell(serial, 'apply'):>16} {cell(par, 'apply'):>16} {cell(serial, 'plan'):>16} "
              f"{cell(serial, 'base'):>16} {serial['plan'] / serial['base']:>9.2f} "
              f"{serial['apply'] / serial['base']:>9.2f}")

    checks: dict[str, bool] = {}
    for name, key, parallel in (("apply (serial)", "apply", 1), ("apply (parallel 4)", "apply", modes[1]),
                                ("plan", "plan", 1), ("baseline raw GET", "base", 1)):
        for clock, suffix in (("CPU", "_cpu"), ("wall", "")):
            seconds = [rows[s, parallel][key + suffix] for s in sizes]
            whole = loglog_slope(sizes, seconds)
            at_scale = loglog_slope(sizes[-2:], seconds[-2:])
            a, b = linear_quadratic_fit(sizes, seconds)
            rounds = per_round_exponents(samples, sizes[-2], sizes[-1], parallel, key + suffix)
            lowest = [min(sample[key + suffix] for sample in samples[size, parallel]) for size in sizes[-2:]]
            print(f"growth {name:<19} {clock:<4} exponent {at_scale:5.2f} at scale ({sizes[-2]}->{sizes[-1]}, "
                  f"of the medians; of the minimums {loglog_slope(sizes[-2:], lowest):.2f}; per round min/median/max "
                  f"{min(rounds):.2f} / {statistics.median(rounds):.2f} / {max(rounds):.2f}), {whole:5.2f} overall; "
                  f"fit {a * 1e3:6.2f} ms/resource + {b * 1e6:6.2f} us/resource^2")
            if clock == "CPU" and not name.startswith("baseline"):
                # CPU time: the work done, blind to other processes on a shared machine (wall time is not).
                checks[f"{name}: growth exponent {at_scale:.2f} <= {GOAL_EXPONENT} at scale (CPU, medians of "
                       f"{args.runs} rounds)"] = at_scale <= GOAL_EXPONENT
    checks["every fresh apply writes each resource once"] = all(r["written"] == s for (s, _), r in rows.items())
    checks["a no-change apply makes zero writes"] = all(r["noop_writes"] == 0 == r["noop_changes"] for r in rows.values())
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}: {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
