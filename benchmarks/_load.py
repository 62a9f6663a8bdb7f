"""Shared by the gateway benchmarks: the emulator in its own process, and a lean HTTP/1.1 load generator.

The emulator runs in a child process (`python benchmarks/_load.py serve`) so the load generator beside it
does not share its interpreter: that is the "gateway on this machine, load generator beside it" setup.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]

# The sample gateway with the policies under test: pool + breaker + retry + token limit (no JWT, no cache),
# and simulated backends answering with zero latency.
BENCH_ENV = """\
  bench:
    target: local
    simulator:
      openai-eastus: {latency_ms: 0}
      openai-northcentralus: {latency_ms: 0}
      openai-westus: {latency_ms: 0}
    overrides:
      apis:
        - name: azure-openai
          semantic_cache: null
          jwt: null
          token_limit: {tokens_per_minute: 1000000000}
"""
CHAT = b'{"messages":[{"role":"user","content":"What is climate change?"}],"max_tokens":16}'


def bench_config(folder: Path) -> Path:
    """toolkit.yaml (sample + the `bench` environment) and policies/ in ``folder``."""
    text = (REPO / "toolkit.yaml").read_text(encoding="utf-8").replace("environments:\n", "environments:\n" + BENCH_ENV, 1)
    path = folder / "toolkit.yaml"
    path.write_text(text, encoding="utf-8")
    (folder / "policies").symlink_to(REPO / "policies")
    return path


def serve() -> None:
    """Child process: publish the bench config to an emulator, print its endpoints, serve until stdin closes."""
    from toolkit.config import load_config
    from toolkit.local import local_gateway

    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(bench_config(Path(tmp)), "bench", environ={})
        with local_gateway(config) as gateway:
            emulator = gateway.emulator
            print(json.dumps({
                "pid": os.getpid(),
                "gateway": gateway.chat_url("openai", "gpt-4o-mini", "2024-10-21"),
                "direct": emulator.farm.urls["openai-eastus"]
                + "/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21",
                "key": gateway.subscription_key,
                "direct_key": emulator.farm.api_key("openai-eastus"),  # the simulated Azure OpenAI's own key
            }), flush=True)
            sys.stdin.read()


class EmulatorProcess:
    """Starts `serve` in a child process; `.endpoints` has gateway/direct URLs and the key."""

    def __enter__(self) -> EmulatorProcess:
        self.process = subprocess.Popen([sys.executable, __file__, "serve"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the emulator process did not start")
        self.endpoints = json.loads(line)
        return self

    def rss_mib(self) -> float:
        """Resident memory of the emulator process."""
        for line in Path(f"/proc/{self.endpoints['pid']}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def __exit__(self, *exc: object) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


class Connection:
    """One keep-alive HTTP/1.1 connection that POSTs JSON (``body``) and reads whole responses (Content-Length)."""

    def __init__(self, url: str, headers: dict[str, str], body: bytes = CHAT) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.request = (f"POST {target} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
                        f"{extra}Content-Length: {len(body)}\r\n\r\n").encode() + body

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def post(self) -> int:
        self.writer.write(self.request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


async def sequential_latencies(url: str, headers: dict[str, str], count: int) -> list[float]:
    """Latency (ms) of ``count`` requests one after another on one connection."""
    connection = Connection(url, headers)
    await connection.open()
    samples = []
    try:
        for _ in range(count):
            start = time.perf_counter()
            status = await connection.post()
            samples.append((time.perf_counter() - start) * 1000)
            if status != 200:
                raise RuntimeError(f"status {status}")
    finally:
        connection.close()
    return samples


async def throughput(url: str, headers: dict[str, str], *, connections: int, seconds: float,
                     max_requests: int | None = None) -> tuple[float, int, int]:
    """(requests/s, requests, non-200 answers) with ``connections`` concurrent keep-alive connections."""
    pool = [Connection(url, headers) for _ in range(connections)]
    await asyncio.gather(*(c.open() for c in pool))
    deadline = time.perf_counter() + seconds
    done = errors = 0

    async def worker(connection: Connection) -> None:
        nonlocal done, errors
        while time.perf_counter() < deadline and (max_requests is None or done < max_requests):
            if await connection.post() != 200:
                errors += 1
            done += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in pool))
    elapsed = time.perf_counter() - start
    for connection in pool:
        connection.close()
    return done / elapsed, done, errors


if __name__ == "__main__" and sys.argv[1:] == ["serve"]:
    sys.path.insert(0, str(REPO))
    serve()
