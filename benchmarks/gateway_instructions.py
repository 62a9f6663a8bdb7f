"""Instructions the gateway's process executes per request, counted by valgrind (callgrind): a figure that does not
move with the machine's load, so a change of a few percent shows on a shared machine where timings swing by 30%.

    python benchmarks/gateway_instructions.py [--policy full|bench] [--cache miss|hit] [--warmup 100]
        [--requests 200] [--compare PATH] [--floor]

The emulator runs in a process under callgrind, with the gateway published as benchmarks/policy_cpu.py sets it
(toolkit.yaml's whole policy, or the bench policy), the simulated backends ("words" embeddings) and the load
generator each in a process of their own, not counted. Counting is switched on (`callgrind_control -i on`) after
``--warmup`` sequential requests on one keep-alive connection (with --cache miss: that many entries already in
the cache) and off after ``--requests`` more; every thread of the emulator's process counts. Printed: thousands
of instructions per request. The same run repeated gives the same figure within about 0.2%.

``--compare PATH``: the same measurement of another checkout of the toolkit (e.g. `git worktree add /tmp/base
main~3`), in the same run, and the change between them. ``--floor``: also benchmarks/_floor_proxy.py, the proxy
with no policy (benchmarks/gateway_overhead.py): the least a Python process in the path executes.

Instructions are not time: a cache miss or a system call costs far more than an instruction, and the kernel's
work is not counted at all. This is for comparing code, not for goals; the goals are benchmarks/gateway_overhead.py's.
valgrind is installed with apt-get when missing.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from _load import (CHAT_PATH, EMBEDDINGS_PATH, JWT_AUDIENCE, REPO, _Child, bench_config, bench_environment,
                   counted_latencies, question)
from _tools import ensure_installed

HIT_QUESTIONS = 16
_COLLECTED = re.compile(r"Collected : (\d+)")


def _callgrind(valgrind: str, out_folder: str) -> list[str]:
    return [valgrind, "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out_folder}/callgrind.%p.out",
            os.path.realpath(sys.executable)]  # the interpreter itself, not a launcher script (pyenv's shims)


def _switch(pid: int, on: bool) -> None:
    subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(pid)], check=True, capture_output=True)


def _collected(stderr: str) -> int:
    found = _COLLECTED.search(stderr)
    if found is None:
        raise RuntimeError(f"callgrind printed no count:\n{stderr[-2000:]}")
    return int(found.group(1))


def _bodies(hits: bool) -> Any:
    numbers = itertools.count()
    return (lambda _: question(next(numbers) % HIT_QUESTIONS)) if hits else (lambda _: question(next(numbers)))


def count_gateway(tree: Path, args: argparse.Namespace, valgrind: str) -> float:
    """Thousands of instructions per request of the emulator of ``tree``."""
    spec = {"tree": str(tree), "full": args.policy == "full", "hits": args.cache == "hit", "warmup": args.warmup,
            "requests": args.requests}
    with tempfile.TemporaryDirectory(prefix="callgrind-") as out_folder:
        run = subprocess.run([*_callgrind(valgrind, out_folder), __file__, "emulator", json.dumps(spec)],
                             capture_output=True, text=True, check=False)
    if run.returncode:
        raise RuntimeError(f"the emulator under callgrind failed ({tree}):\n{run.stderr[-3000:]}")
    failed = json.loads(run.stdout.strip().splitlines()[-1])["errors"]
    if failed:
        raise RuntimeError(f"{failed} of {args.requests} requests failed ({tree})")
    return _collected(run.stderr) / args.requests / 1000


def emulator(spec: dict[str, Any]) -> None:
    """Under callgrind: the emulator of ``spec["tree"]`` here, counted around the timed requests; the load from a
    child process (benchmarks/policy_cpu.py's), its result as the last line."""
    sys.path.insert(0, spec["tree"])
    from policy_cpu import run_load
    from toolkit.config import load_config
    from toolkit.local import local_gateway

    backends = _Child("backends", "words")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = load_config(bench_config(Path(tmp), bench_environment(backends.info, full_policy=spec["full"])),
                                 "bench", environ={})
            with local_gateway(config) as gateway:
                token = gateway.emulator.mint_token(audience=JWT_AUDIENCE, expires_in=24 * 3600)
                load = {"url": gateway.chat_url("openai", "gpt-4o-mini", "2024-10-21"), "hits": spec["hits"],
                        "headers": {"api-key": gateway.subscription_key, "Authorization": f"Bearer {token}"}}
                run_load(load, spec["warmup"], 0)
                _switch(os.getpid(), True)
                result = run_load(load, spec["requests"], spec["warmup"])
                _switch(os.getpid(), False)
    finally:
        backends.stop()
    print(json.dumps(result), flush=True)


def count_floor(args: argparse.Namespace, valgrind: str) -> float:
    """Thousands of instructions per request of the floor proxy making the full (or bench) policy's backend calls."""
    body = _bodies(args.cache == "hit")
    backends = _Child("backends", "words")
    try:
        urls = backends.info["urls"]
        embeddings = urls["embeddings"] + EMBEDDINGS_PATH + "?api-version=2024-10-21"
        steps = ([[embeddings, "embeddings"]] if args.policy == "full" else []) + \
            ([] if args.cache == "hit" and args.policy == "full" else [[urls["openai-eastus"] + CHAT_PATH, "same"]])
        with tempfile.TemporaryDirectory(prefix="callgrind-") as out:
            floor = subprocess.Popen([*_callgrind(valgrind, out), str(Path(__file__).with_name("_floor_proxy.py")),
                                      json.dumps({"steps": steps, "api_key": backends.info["key"]})],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            assert floor.stdin is not None and floor.stdout is not None and floor.stderr is not None
            try:
                url = json.loads(floor.stdout.readline())["url"]
                asyncio.run(counted_latencies(url, {}, args.warmup, body))
                _switch(floor.pid, True)
                _, failed = asyncio.run(counted_latencies(url, {}, args.requests, body))
                _switch(floor.pid, False)
            finally:
                floor.stdin.close()
                floor.wait(timeout=120)
            stderr = floor.stderr.read()
    finally:
        backends.stop()
    if failed:
        raise RuntimeError(f"{failed} of {args.requests} requests through the floor proxy failed")
    return _collected(stderr) / args.requests / 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", choices=("full", "bench"), default="full")
    parser.add_argument("--cache", choices=("miss", "hit"), default="miss")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--compare", type=Path, help="another checkout of the toolkit, measured the same way")
    parser.add_argument("--floor", action="store_true", help="also count benchmarks/_floor_proxy.py")
    args = parser.parse_args()
    if args.compare is not None and not (args.compare / "toolkit" / "__init__.py").is_file():
        parser.error(f"--compare {args.compare}: no toolkit package there")
    valgrind = ensure_installed("valgrind", "valgrind")
    figures = {str(REPO): count_gateway(REPO, args, valgrind)}
    if args.compare is not None:
        figures[str(args.compare.resolve())] = count_gateway(args.compare.resolve(), args, valgrind)
    print("command: " + " ".join([sys.executable, *sys.argv]))
    print(f"policy: {args.policy}; cache {args.cache}; {args.requests} sequential requests after {args.warmup}; "
          "thousands of instructions per request, every thread of the process")
    for tree, figure in figures.items():
        print(f"  gateway ({tree}) {figure:9.0f}")
    if args.compare is not None:
        mine, other = figures.values()
        print(f"  change: {100 * (mine - other) / other:+.1f}% ({REPO} against {args.compare})")
    if args.floor:
        print(f"  floor (benchmarks/_floor_proxy.py) {count_floor(args, valgrind):9.0f}")
    return 0


if __name__ == "__main__" and sys.argv[1:2] == ["emulator"]:
    emulator(json.loads(sys.argv[2]))
elif __name__ == "__main__":
    sys.exit(main())
