"""Throughput of the simulated Azure OpenAI backends: ASGI style, and uvicorn loop/http options.

Run: .venv/bin/python benchmarks/simulator_backends.py [--requests 20000] [--seconds 3] [--concurrency 32]

Part 1 calls the ASGI app directly in-process (no sockets): the raw ASGI app that ships against the
same handler wrapped in a Starlette app, so the difference is framework overhead only.
Part 2 runs one SimulatorHost child process per loop x http option and drives each over loopback
with a minimal keep-alive HTTP/1.1 client (uvloop, ``--concurrency`` connections) in this process,
``--seconds`` per option and round after a warm-up; options interleave round by round (the machine
may be shared) and the median and best are printed.

Measured 2026-11-26 (2 vCPUs shared with other jobs; --seconds 3 --rounds 5), req/s:
  In-process ASGI, chat completion, 20000 sequential calls (best of 5):
    raw ASGI        9870 req/s
    Starlette       5014 req/s

  Over loopback, 32 keep-alive connections, 3 s x 5 rounds:
    loop=asyncio  http=h11        app=raw       median   1724  best   2007 req/s
    loop=asyncio  http=httptools  app=raw       median   3354  best   5153 req/s
    loop=uvloop   http=h11        app=raw       median   2042  best   2474 req/s
    loop=uvloop   http=httptools  app=raw       median   3824  best   4973 req/s
    loop=uvloop   http=httptools  app=starlette median   2868  best   3553 req/s
Hence the defaults: raw ASGI app, uvloop + httptools (asyncio + httptools is close; h11 is ~2x slower).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from typing import Any

CHAT_PATH = "/openai/deployments/gpt-4o/chat/completions"
CHAT_QUERY = b"api-version=2024-10-21"
CHAT_BODY = json.dumps(
    {"messages": [{"role": "user", "content": "What is climate change?"}], "max_tokens": 50}
).encode()


def starlette_app(backend: Any) -> Any:
    """The same backend behind Starlette routing, for comparison."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        result = await backend.handle(request.method, request.url.path, request.scope["query_string"], body)
        headers = {k.decode(): v.decode() for k, v in result.headers if k != b"content-length"}
        return Response(result.body, status_code=result.status, headers=headers)

    return Starlette(routes=[Route("/openai/deployments/{deployment}/{operation:path}", endpoint, methods=["POST"])])


async def _drive_asgi(app: Any, n: int) -> float:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": CHAT_PATH, "raw_path": CHAT_PATH.encode(), "query_string": CHAT_QUERY, "root_path": "",
        "headers": [(b"content-type", b"application/json")], "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2),
    }
    message = {"type": "http.request", "body": CHAT_BODY, "more_body": False}

    async def receive() -> dict[str, Any]:
        return message

    async def send(_: dict[str, Any]) -> None:
        return None

    start = time.perf_counter()
    for _ in range(n):
        await app(dict(scope), receive, send)
    return n / (time.perf_counter() - start)


def bench_asgi(n: int, rounds: int) -> dict[str, float]:
    """Requests/s of the raw ASGI app and of the Starlette wrapper, best of ``rounds``."""
    from toolkit.emulator.simulator import SimulatedBackend, create_backend_app

    results: dict[str, float] = {}
    for label, factory in (("raw ASGI", create_backend_app), ("Starlette", starlette_app)):
        app = factory(SimulatedBackend("bench", "East US"))
        asyncio.run(_drive_asgi(app, 500))  # warm-up
        results[label] = max(asyncio.run(_drive_asgi(app, n)) for _ in range(rounds))
    return results


# -- part 2: real sockets ----------------------------------------------------------------------------

_SERVER = """
import sys
import toolkit.emulator.simulator.host as host_module
from toolkit.emulator.simulator import SimulatedBackend, SimulatorHost
if sys.argv[3] == "starlette":
    sys.path.insert(0, sys.argv[4])
    from simulator_backends import starlette_app
    host_module.create_backend_app = starlette_app
host = SimulatorHost([SimulatedBackend("bench", "East US")], loop=sys.argv[1], http=sys.argv[2])
print(host.start()["bench"], flush=True)
sys.stdin.read()
host.stop()
"""


async def _client(port: int, seconds: float, concurrency: int) -> int:
    request = (
        f"POST {CHAT_PATH}?{CHAT_QUERY.decode()} HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        f"content-type: application/json\r\ncontent-length: {len(CHAT_BODY)}\r\n\r\n"
    ).encode() + CHAT_BODY
    deadline = time.perf_counter() + seconds
    counts = [0] * concurrency

    async def worker(i: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head.decode())
            counts[i] += 1
        writer.close()
        await writer.wait_closed()

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return sum(counts)


def bench_servers(options: list[tuple[str, str, str]], seconds: float, concurrency: int, rounds: int) -> dict[
    tuple[str, str, str], list[float]
]:
    """Requests/s over loopback per option; options interleave within each round to share the noise."""
    import pathlib

    import uvloop

    children = {
        option: subprocess.Popen(
            [sys.executable, "-c", _SERVER, *option, str(pathlib.Path(__file__).parent)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        for option in options
    }
    rates: dict[tuple[str, str, str], list[float]] = {option: [] for option in options}
    try:
        ports = {option: int(child.stdout.readline().strip().rsplit(":", 1)[1])  # type: ignore[union-attr]
                 for option, child in children.items()}
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            for option in options:
                runner.run(_client(ports[option], 0.5, concurrency))  # warm-up
            for _ in range(rounds):
                for option in options:
                    rates[option].append(runner.run(_client(ports[option], seconds, concurrency)) / seconds)
    finally:
        for child in children.values():
            child.stdin.close()  # type: ignore[union-attr]
            child.wait(timeout=30)
    return rates


def main() -> None:
    """Print both tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    print(f"In-process ASGI, chat completion, {args.requests} sequential calls (best of {args.rounds}):")
    for label, rate in bench_asgi(args.requests, args.rounds).items():
        print(f"  {label:<10} {rate:9.0f} req/s")

    print(f"\nOver loopback, {args.concurrency} keep-alive connections, {args.seconds:g} s x {args.rounds} rounds:")
    options = [(loop, http, "raw") for loop in ("asyncio", "uvloop") for http in ("h11", "httptools")]
    options.append(("uvloop", "httptools", "starlette"))
    for (loop, http, app), rates in bench_servers(options, args.seconds, args.concurrency, args.rounds).items():
        print(
            f"  loop={loop:<8} http={http:<10} app={app:<9} "
            f"median {statistics.median(rates):6.0f}  best {max(rates):6.0f} req/s"
        )


if __name__ == "__main__":
    main()
