"""`toolkit --help` wall time against `python -c pass`, measured in the same run (medians of N runs).

Goal: the CLI adds at most 150 ms over bare Python (nothing heavy is imported on that path).
Run: python benchmarks/cli_startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

GOAL_MS = 150.0


def _median_ms(command: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    python = sys.executable
    _median_ms([python, "-m", "toolkit", "--help"], 2)  # warm the file cache
    baseline = _median_ms([python, "-c", "pass"], args.runs)
    help_ms = _median_ms([python, "-m", "toolkit", "--help"], args.runs)
    version_ms = _median_ms([python, "-m", "toolkit", "--version"], args.runs)
    over = help_ms - baseline
    print(f"python -c pass      median {baseline:7.1f} ms  (baseline, {args.runs} runs)")
    print(f"toolkit --help      median {help_ms:7.1f} ms  (+{over:.1f} ms)")
    print(f"toolkit --version   median {version_ms:7.1f} ms  (+{version_ms - baseline:.1f} ms)")
    verdict = "PASS" if over <= GOAL_MS else "FAIL"
    print(f"{verdict}: --help adds {over:.1f} ms over bare Python (goal <= {GOAL_MS:.0f} ms)")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
