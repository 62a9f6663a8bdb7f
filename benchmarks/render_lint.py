"""Render and lint of a 30-backend gateway with a 30-member pool (goal: under 0.5 s each).

The same-run baseline is the floor for the same tree: json.loads of every JSON file and an lxml parse of
every policy, so the figures say how much of the time is the toolkit's own work.
Run: python benchmarks/render_lint.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lxml import etree

REPO = Path(__file__).resolve().parents[1]
GOAL_S = 0.5


def big_config(members: int = 30) -> str:
    """toolkit.yaml text with ``members`` breaker-guarded backends in one pool."""
    backends = "".join(
        f"  - name: aoai-{i:02d}\n    url: https://aoai-{i:02d}.openai.azure.com/openai\n    region: Region {i}\n"
        f"    circuit_breaker: {{count: 3, interval: PT5M, status_codes: [429, 500-599], trip_duration: PT1M}}\n"
        for i in range(members)
    )
    pool = "".join(f"      - {{backend: aoai-{i:02d}, priority: {1 + i // 10}, weight: {10 + i}}}\n" for i in range(members))
    return (
        "apis:\n  - name: chat\n    path: openai\n    backend: big-pool\n    retry: {on_status: [429, 503]}\n"
        "    semantic_cache: {score_threshold: 0.05, embeddings_backend: aoai-00, duration: 60}\n"
        "    token_limit: {counter_key: '@(context.Subscription.Id)', tokens_per_minute: 10000}\n"
        f"backends:\n{backends}pools:\n  - name: big-pool\n    members:\n{pool}"
        "environments:\n  local: {target: local}\n"
    )


def median_seconds(fn, runs: int, clock=time.perf_counter) -> float:
    """Median time of ``runs`` calls of ``fn`` (shared by the benchmarks); wall time unless ``clock`` says
    otherwise (``time.process_time``: CPU time of this process, blind to other load on a shared machine)."""
    samples = []
    for _ in range(runs):
        start = clock()
        fn()
        samples.append(clock() - start)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    from toolkit.config import load_config
    from toolkit.lint.runner import lint_tree
    from toolkit.render import render_artifacts

    with tempfile.TemporaryDirectory() as tmp:
        config_path = Path(tmp) / "toolkit.yaml"
        config_path.write_text(big_config(), encoding="utf-8")
        templates = REPO / "policies"

        def render():
            return render_artifacts(load_config(config_path, environ={}).gateway, templates)

        artifacts = render()
        findings = lint_tree(artifacts)

        def baseline():
            for path in artifacts.paths():
                text = artifacts.get(path)
                if path.endswith(".json"):
                    json.loads(text)
                else:
                    etree.fromstring(text.encode())

        base_s = median_seconds(baseline, args.runs)
        render_s = median_seconds(render, args.runs)
        lint_s = median_seconds(lambda: lint_tree(artifacts), args.runs)

    print(f"tree: {len(artifacts)} files (30 backends + a 30-member pool + API policy); lint findings: "
          f"{len(findings.errors)} errors, {len(findings.warnings)} warnings")
    print(f"baseline (parse every file)   median {base_s * 1000:8.1f} ms")
    print(f"render (load + templates)     median {render_s * 1000:8.1f} ms  ({render_s / base_s:.0f}x baseline)")
    print(f"lint (all rules)              median {lint_s * 1000:8.1f} ms  ({lint_s / base_s:.0f}x baseline)")
    ok = render_s < GOAL_S and lint_s < GOAL_S
    print(f"{'PASS' if ok else 'FAIL'}: render {render_s:.3f} s, lint {lint_s:.3f} s (goal < {GOAL_S} s each)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
