"""Two checkouts' gateways side by side: the same kind of request, sent to one and the other in turn, one at a time,
so that a shared machine's swings hit both alike. For judging a change to the request path when the rounds of
benchmarks/gateway_overhead.py, seconds apart, swing by more than the change.

    python benchmarks/gateway_ab.py --compare PATH [--policy full|bench] [--entries 10000] [--requests 2000]

PATH is another checkout of the toolkit (e.g. `git worktree add /tmp/base main~1`). One simulated-backends process
("words" embeddings, benchmarks/_load.py) serves two emulators, each in its own process and started from its own
checkout, with the same configuration (toolkit.yaml's whole policy with --policy full, as
benchmarks/gateway_overhead.py sets it). The load generator (this process) first sends ``--entries`` requests to
each (with the full policy every question is new, so each semantic cache then holds that many
entries; the two in turn), then ``--requests`` pairs: one request to each, on its own keep-alive connection, the order flipping
from pair to pair, every question new. Printed: each side's p50 latency, and the median of the paired
differences (this checkout's request minus the other's of the same pair) with the share of pairs this checkout
won. Two identical checkouts gave +0.006 and +0.021 ms; two runs of one comparison have differed by up to 0.1 ms,
so repeat a run before trusting a smaller difference. Every request runs on caches the other gateway has just
used, so both sides are slower than a gateway alone. A measurement for comparing code; the goals are
benchmarks/gateway_overhead.py's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

from _load import REPO, Connection, _Child, question


def start_emulator(tree: Path, backends: dict, full: bool) -> _Child:
    """The emulator of checkout ``tree`` in a child process (its own benchmarks/_load.py, its own toolkit)."""
    spec = {"backends": backends, "cache_seconds": None, "full_policy": full}
    return _Child("serve", json.dumps(spec), script=str(tree / "benchmarks" / "_load.py"))


def connection(info: dict) -> Connection:
    headers = {"api-key": info["key"]}
    if info.get("token"):
        headers["Authorization"] = f"Bearer {info['token']}"
    return Connection(info["gateway"], headers)


async def timed_post(client: Connection, body: bytes) -> float:
    """Milliseconds of one request (RuntimeError unless it answered 200)."""
    client.set_body(body)
    start = time.perf_counter()
    status = await client.post()
    elapsed = (time.perf_counter() - start) * 1000
    if status != 200:
        raise RuntimeError(f"a request answered {status}")
    return elapsed


async def measure(mine: dict, other: dict, entries: int, requests: int) -> tuple[list[float], list[float]]:
    """(this checkout's latencies, the other's), pair by pair."""
    clients = {"mine": connection(mine), "other": connection(other)}
    for client in clients.values():
        await client.open()
    try:
        serial = 0
        for _ in range(entries):  # in turn too: an idle keep-alive connection would be closed meanwhile
            for name in ("mine", "other"):
                serial += 1
                await timed_post(clients[name], question(serial))
        results: dict[str, list[float]] = {"mine": [], "other": []}
        for pair in range(requests):
            order = ("mine", "other") if pair % 2 == 0 else ("other", "mine")
            for name in order:
                serial += 1
                results[name].append(await timed_post(clients[name], question(serial)))
        return results["mine"], results["other"]
    finally:
        for client in clients.values():
            client.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--compare", type=Path, required=True, help="another checkout of the toolkit")
    parser.add_argument("--policy", choices=("full", "bench"), default="full")
    parser.add_argument("--entries", type=int, default=10_000, help="requests to each gateway before the timing")
    parser.add_argument("--requests", type=int, default=2_000, help="timed pairs")
    args = parser.parse_args()
    other_tree = args.compare.resolve()
    if not (other_tree / "toolkit" / "__init__.py").is_file() or not (other_tree / "benchmarks" / "_load.py").is_file():
        parser.error(f"--compare {args.compare}: no toolkit checkout there")
    print(f"Command: {sys.executable} {' '.join(sys.argv)}")
    backends = _Child("backends", "words")
    children = []
    try:
        children.append(start_emulator(REPO, backends.info, args.policy == "full"))
        children.append(start_emulator(other_tree, backends.info, args.policy == "full"))
        mine, other = asyncio.run(measure(children[0].info, children[1].info, args.entries, args.requests))
    finally:
        for child in children:
            child.stop()
        backends.stop()
    differences = [a - b for a, b in zip(mine, other, strict=True)]
    won = sum(d < 0 for d in differences) / len(differences)
    print(f"policy: {args.policy}; {args.entries} requests to each before the timing; {args.requests} pairs")
    print(f"  p50 ms   this checkout {statistics.median(mine):.3f}   {other_tree} {statistics.median(other):.3f}")
    print(f"  paired difference (this - other): median {statistics.median(differences):+.3f} ms; "
          f"this checkout faster in {100 * won:.0f}% of pairs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
