"""`toolkit --help` wall time against `python -c pass`, measured in the same run in alternating rounds.

Goal: the CLI adds at most 150 ms over bare Python (nothing heavy is imported on that path).
Run: python benchmarks/cli_startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable

from _ab import alternate, median_ms, spread_ms

GOAL_MS = 150.0


def _run(command: list[str]) -> Callable[[], object]:
    return lambda: subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    python = sys.executable
    commands = {
        "python -c pass": [python, "-c", "pass"],
        "toolkit --help": [python, "-m", "toolkit", "--help"],
        "toolkit --version": [python, "-m", "toolkit", "--version"],
    }
    alternate({name: _run(command) for name, command in commands.items()}, 2)  # warm the file cache
    samples = alternate({name: _run(command) for name, command in commands.items()}, args.runs)
    baseline = median_ms(samples["python -c pass"])
    print(f"{args.runs} alternating rounds; min / median / max in ms")
    for name, values in samples.items():
        extra = "" if name == "python -c pass" else f"  (+{median_ms(values) - baseline:.1f} ms median)"
        print(f"{name:18} {spread_ms(values)}{extra}")
    over = median_ms(samples["toolkit --help"]) - baseline
    verdict = "PASS" if over <= GOAL_MS else "FAIL"
    print(f"{verdict}: --help adds {over:.1f} ms over bare Python (goal <= {GOAL_MS:.0f} ms)")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
