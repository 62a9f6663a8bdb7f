"""Plan and apply of 30 backends + a 30-member pool + an API policy against the emulator's management API.

Goals: plan reads each resource once (plus one list call per listable kind); a no-change apply makes
zero writes; a target or credential that cannot answer fails well inside the 10 s bound.
The same-run baseline is the raw SDK: one ``get`` per resource through azure-mgmt-apimanagement
(no diff, no lists), so the figures say what plan adds on top of the unavoidable reads.

Run: .venv/bin/python benchmarks/publish_plan_apply.py [--runs 5]
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from render_lint import big_config, median_seconds  # noqa: E402  (the same 30-backend gateway as the render benchmark)

LISTS = 4  # named values, backends, fragments, APIs
BOUND_S = 10.0


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _raw_gets(sdk: Any, rg: str, svc: str, refs: list[Any]) -> None:
    """The baseline: what a hand-written script does to read the same resources."""
    from toolkit.artifacts.layout import Kind

    for ref in refs:
        if ref.kind is Kind.BACKEND:
            sdk.backend.get(rg, svc, ref.name)
        elif ref.kind is Kind.API:
            sdk.api.get(rg, svc, ref.name)
        elif ref.kind is Kind.API_POLICY:
            sdk.api_policy.get(rg, svc, ref.name, "policy", format="rawxml")
        elif ref.kind is Kind.NAMED_VALUE:
            sdk.named_value.get(rg, svc, ref.name)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _failure_times(ca_bundle: str) -> list[tuple[str, float, str]]:
    """Seconds until each unreachable target or offline credential gives up (loopback only)."""
    from toolkit.artifacts.layout import Kind
    from toolkit.config.models import EnvironmentConfig
    from toolkit.errors import ToolkitError
    from toolkit.publish.credentials import azure_credential, preflight
    from toolkit.publish.target import connect_target

    port = _closed_port()
    ids = {"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "s"}
    github = {**ids, "ACTIONS_ID_TOKEN_REQUEST_URL": f"https://127.0.0.1:{port}/token",
              "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "x"}
    loopback_authority = {"authority": f"https://127.0.0.1:{port}", "disable_instance_discovery": True}

    def emulator_down() -> None:
        with connect_target(EnvironmentConfig(target="local"), management_url=f"https://127.0.0.1:{port}",
                            ca_bundle=ca_bundle, environ={"TOOLKIT_EMULATOR_TOKEN": "unused"}) as target:
            target.client.list_names(Kind.BACKEND)

    def credential(auth: str, environ: dict[str, str], options: dict[str, Any] | None = None) -> Callable[[], None]:
        def attempt() -> None:
            cred, choice = azure_credential(auth, environ=environ, options=options)
            preflight(cred, choice)
        return attempt

    cases = [
        ("emulator URL refusing connections", emulator_down),
        ("client-secret, token endpoint down", credential("client-secret", ids, loopback_authority)),
        ("workload-identity (GitHub OIDC), endpoint down", credential("workload-identity", github, loopback_authority)),
        ("client-secret, settings missing", credential("client-secret", {})),
    ]
    results = []
    for label, case in cases:
        start = time.perf_counter()
        try:
            case()
            outcome = "no error (unexpected)"
        except ToolkitError as exc:
            outcome = f"exit {exc.exit_code}"
        results.append((label, time.perf_counter() - start, outcome))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from toolkit.config import load_config
    from toolkit.config.models import EnvironmentConfig
    from toolkit.emulator.management import ManagementPlane, create_tls_material
    from toolkit.publish import apply_plan, connect_target, load_desired, plan_against
    from toolkit.testing.emulator_servers import serve_app_in_thread

    plane = ManagementPlane()
    with tempfile.TemporaryDirectory() as tmp, create_tls_material() as tls, \
            serve_app_in_thread(plane.app, ssl=tls) as url:
        config_path = Path(tmp) / "toolkit.yaml"
        config_path.write_text(big_config(), encoding="utf-8")
        config = load_config(config_path, "local", environ={})
        desired = load_desired(config, templates_dir=REPO / "policies")
        resources = len(desired.resources)
        counters = plane.counters
        with connect_target(EnvironmentConfig(target="local"), management_url=url,
                            ca_bundle=str(tls.ca_bundle_path), environ={"TOOLKIT_EMULATOR_TOKEN": plane.token}) as target:
            client = target.client

            counters.reset()
            fresh_plan_s, plan = _timed(lambda: plan_against(target, desired, env="local"))
            fresh_plan = counters.snapshot()
            counters.reset()
            apply_s, outcome = _timed(lambda: apply_plan(client, plan, desired.resources))
            fresh_apply = counters.snapshot()

            counters.reset()
            again = plan_against(target, desired, env="local")
            noop_plan = counters.snapshot()
            counters.reset()
            noop_apply_outcome = apply_plan(client, again, desired.resources)
            noop_apply = counters.snapshot()
            plan_s = median_seconds(lambda: plan_against(target, desired, env="local"), args.runs)

            refs = sorted(desired.resources)
            counters.reset()
            _raw_gets(client.sdk, client.resource_group, client.service, refs)
            baseline_calls = counters.snapshot()["total"]
            base_s = median_seconds(lambda: _raw_gets(client.sdk, client.resource_group, client.service, refs), args.runs)
        failures = _failure_times(str(tls.ca_bundle_path))

    print(f"gateway: {resources} resources (30 backends, a 30-member pool, API, API policy); emulator over TLS")
    print(f"baseline: raw SDK get x{resources}      median {base_s * 1000:8.1f} ms  {baseline_calls:3d} HTTP calls")
    print(f"plan (no changes)                 median {plan_s * 1000:8.1f} ms  {noop_plan['reads']:3d} reads "
          f"({noop_plan['reads'] - LISTS} GET + {LISTS} lists), {noop_plan['writes']} writes  "
          f"({plan_s / base_s:.2f}x baseline)")
    print(f"plan (fresh target)               once   {fresh_plan_s * 1000:8.1f} ms  {fresh_plan['reads']:3d} reads "
          f"(lists only: nothing to read)")
    print(f"apply (fresh: {len(plan.actions)} creates)          once   {apply_s * 1000:8.1f} ms  "
          f"{fresh_apply['writes']:3d} writes, {fresh_apply['reads']:3d} reads (ETag pre-check + LRO polls)")
    print(f"apply of the no-change plan       once   {'':8s}     {noop_apply['writes']:3d} writes, "
          f"{noop_apply['reads']:3d} reads")
    for label, seconds, result in failures:
        print(f"fails fast: {label:<48} {seconds:6.2f} s  {result}")

    checks = {
        "plan reads one per resource (+ lists)": noop_plan["reads"] <= resources + LISTS,
        "no-change apply makes zero writes": noop_apply["writes"] == 0 and noop_apply_outcome.writes == 0,
        "fresh apply writes each resource once": fresh_apply["writes"] == resources == len(outcome.done),
        f"failures within {BOUND_S:g} s, exit 4": all(s < BOUND_S and o == "exit 4" for _, s, o in failures),
    }
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}: {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
