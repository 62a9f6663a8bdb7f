"""Shared by the gateway benchmarks: simulated backends and the emulator each in their own process, a lean
HTTP/1.1 load generator, and A/B rounds.

Three processes, so that none shares an interpreter or an event loop with another:

- ``python benchmarks/_load.py backends``: simulated Azure OpenAI instances (three chat deployments and the
  embeddings endpoint) on loopback ports, each requiring its api-key, as Azure OpenAI does;
- ``python benchmarks/_load.py serve <spec>``: the emulator, with the sample gateway published to it; the
  bench environment points the backends at those loopback URLs with ``auth: {api_key}`` (the emulator
  forwards loopback backend URLs as they are);
- the benchmark itself, the load generator.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from _ab import alternate

REPO = Path(__file__).resolve().parents[1]
T = TypeVar("T")

CHAT_BACKENDS = ("openai-eastus", "openai-northcentralus", "openai-westus")
EMBEDDINGS_PATH = "/openai/deployments/text-embedding-3-small/embeddings"
CHAT_PATH = "/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21"
CHAT = b'{"messages":[{"role":"user","content":"What is climate change?"}],"max_tokens":16}'
EMULATOR_ISSUER = "https://sts.emulator.invalid/toolkit/v2.0"  # the emulator's token issuer (toolkit.yaml's local env)
JWT_AUDIENCE = "api://toolkit-gateway"  # toolkit.yaml's jwt-audience
WORDS = ("river mountain budget protein galaxy violin harbor senate glacier pepper algorithm cathedral volcano "
         "mortgage orchid satellite tennis lantern bacteria sonnet tractor parliament coral saxophone equation "
         "desert vaccine museum tornado ledger falcon copper marathon pixel chapel monsoon turbine jazz "
         "archive nitrogen canyon bakery comet").split()


def bench_environment(backends: dict[str, Any], *, cache_seconds: int | None = None, full_policy: bool = False) -> str:
    """The `bench` environment: the sample's backends at the loopback URLs of ``backends`` (their api-key as
    backend auth), no JWT, a token limit that never bites, and the semantic cache off unless ``cache_seconds``
    (its entries' duration) is given.

    ``full_policy``: the sample's whole policy instead (JWT validation against the emulator's issuer, the
    semantic cache as toolkit.yaml sets it); only the token limit is raised so that it never bites.
    """
    backend_list = [{"name": name, "url": url + (EMBEDDINGS_PATH if name == "embeddings" else ""),
                     "auth": {"api_key": backends["key"]}} for name, url in backends["urls"].items()]
    if full_policy:
        overrides: dict[str, Any] = {
            "backends": backend_list,
            "apis": [{"name": "azure-openai", "token_limit": {"tokens_per_minute": 1_000_000_000}}],
            "named_values": [{"name": "openid-config-url", "value": f"{EMULATOR_ISSUER}/.well-known/openid-configuration"},
                             {"name": "jwt-issuer", "value": EMULATOR_ISSUER}],
        }
    else:
        overrides = {
            "backends": backend_list,
            "apis": [{"name": "azure-openai", "jwt": None, "token_limit": {"tokens_per_minute": 1_000_000_000},
                      "semantic_cache": {"duration": cache_seconds} if cache_seconds else None}],
        }
    return f"  bench:\n    target: local\n    overrides: {json.dumps(overrides)}\n"


def question(index: int) -> bytes:
    """A chat request whose question differs from every other index's (so none is a semantic-cache hit)."""
    picker = random.Random(index)
    words = " ".join(picker.choice(WORDS) for _ in range(8))
    content = f"Request {index}: explain how {words} relate to each other."
    return json.dumps({"messages": [{"role": "user", "content": content}], "max_tokens": 16}).encode()


def bench_config(folder: Path, environment: str) -> Path:
    """toolkit.yaml (sample + the `bench` environment) and policies/ in ``folder``."""
    text = (REPO / "toolkit.yaml").read_text(encoding="utf-8").replace("environments:\n", "environments:\n" + environment, 1)
    path = folder / "toolkit.yaml"
    path.write_text(text, encoding="utf-8")
    (folder / "policies").symlink_to(REPO / "policies")
    return path


EMBEDDERS = ("words", "model")  # the backends' embeddings: see `serve_backends`
_WORD = re.compile(r"\w+")
_word_vectors: dict[str, Any] = {}


def words_embedding(texts: list[str]) -> Any:
    """Zero-cost embeddings (~10 µs a question): the normalised sum of one pseudo-random vector per word (drawn from
    a generator seeded with the word's hash, remembered). The same text always gets the same vector, and texts
    sharing words lie closer than others, so the cache's neighbourhoods (and its graph search) look like a
    model's, not like random points; a repeated question is a semantic-cache hit, a new one a miss."""
    import numpy as np

    rows = np.zeros((len(texts), 384), dtype=np.float64)
    for row, text in zip(rows, texts, strict=True):
        for word in _WORD.findall(text.lower()):
            vector = _word_vectors.get(word)
            if vector is None:
                seed = int.from_bytes(hashlib.blake2b(word.encode()).digest()[:8], "little")
                vector = _word_vectors[word] = np.random.default_rng(seed).standard_normal(384)
            row += vector
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return (rows / np.where(norms == 0, 1.0, norms)).astype(np.float32)


def serve_backends(embedder: str) -> None:
    """Child process: the simulated instances (zero latency, one api-key), their URLs printed, until stdin closes.

    ``embedder`` answers the embeddings deployment: "words" (`words_embedding`, zero latency like the chat
    deployments) or "model" (the emulator's MiniLM model, ~7 ms of CPU a call in this process; measured with
    benchmarks/policy_cpu.py, the gateway's own CPU per request is then ~2x higher than with "words", for the same
    work: the model's run just before it on this machine's other core leaves the gateway running on cold caches,
    which a gateway calling an embeddings deployment in Azure does not share)."""
    from toolkit.emulator.simulator.auth import BackendAuth
    from toolkit.emulator.simulator.host import SimulatorHost
    from toolkit.emulator.simulator.openai_app import SimulatedBackend

    def embed(texts: list[str]) -> Any:
        if embedder == "words":
            return words_embedding(texts)
        from toolkit.emulator.embeddings import get_embedder

        return get_embedder().embed(texts)

    key = secrets.token_hex(16)
    instances = [SimulatedBackend(name, "Local", embed=embed, rng_seed=index, auth=BackendAuth(key))
                 for index, name in enumerate((*CHAT_BACKENDS, "embeddings"))]
    with SimulatorHost(instances) as host:
        print(json.dumps({"pid": os.getpid(), "urls": host.base_urls, "key": key}), flush=True)
        sys.stdin.read()


def serve(spec: dict[str, Any]) -> None:
    """Child process: publish the bench config to an emulator, print its endpoints, serve until stdin closes."""
    from toolkit.config import load_config
    from toolkit.local import local_gateway

    backends = spec["backends"]
    with tempfile.TemporaryDirectory() as tmp:
        environment = bench_environment(backends, cache_seconds=spec.get("cache_seconds"),
                                        full_policy=bool(spec.get("full_policy")))
        config = load_config(bench_config(Path(tmp), environment), "bench", environ={})
        with local_gateway(config) as gateway:
            token = gateway.emulator.mint_token(audience=JWT_AUDIENCE, expires_in=24 * 3600)
            print(json.dumps({
                "pid": os.getpid(),
                "gateway": gateway.chat_url("openai", "gpt-4o-mini", "2024-10-21"),
                "key": gateway.subscription_key,
                "token": token,  # a bearer token the full policy's validate-jwt accepts
            }), flush=True)
            sys.stdin.read()


class _Child:
    """A child process (of this script, or of ``script``) that prints one JSON line when ready and runs until its
    stdin closes."""

    def __init__(self, *args: str, script: str = __file__) -> None:
        self.process = subprocess.Popen([sys.executable, script, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=30)
            self.process.stdout.close()
            if self.process.stdin is not None:
                self.process.stdin.close()
            raise RuntimeError(f"{args[0]}: the child process did not start (exit {self.process.returncode})")
        self.info: dict[str, Any] = json.loads(line)

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def burn_spec(text: str) -> tuple[float, float]:
    """``--burn BUSY/PERIOD`` (milliseconds, BUSY <= PERIOD) as (busy, period) seconds (an argparse type)."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)/(\d+(?:\.\d+)?)", text.strip())
    if match is None or not 0 < float(match[1]) <= float(match[2]):
        raise argparse.ArgumentTypeError(f"expected BUSY/PERIOD in milliseconds with 0 < BUSY <= PERIOD, e.g. 10/20, "
                                         f"not {text!r}")
    return float(match[1]) / 1000, float(match[2]) / 1000


_BURNER = """
import sys, time
busy, period = float(sys.argv[1]), float(sys.argv[2])
while True:
    start = time.perf_counter()
    while time.perf_counter() - start < busy:
        pass
    time.sleep(max(0.0, period - (time.perf_counter() - start)))
"""


def cpu_burner(busy: float, period: float) -> subprocess.Popen[bytes]:
    """A third process on the machine: it keeps a core busy ``busy`` seconds of every ``period`` until killed
    (``.kill()``), to see how the figures hold up when something else competes for the cores."""
    return subprocess.Popen([sys.executable, "-c", _BURNER, str(busy), str(period)])


def rss_mib(pid: int) -> float:
    """Resident memory of a process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far: less sensitive to a shared machine's load than
    wall-clock figures (time spent waiting for a core is not counted)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (clock ticks)


def cpu_ticks() -> tuple[int, int]:
    """(stolen, all) clock ticks of this machine's CPUs so far, from /proc/stat: "steal" is the time a virtual
    machine's CPUs were ready to run but the host ran something else, which no process here can see or avoid."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])  # user .. steal; guest time is counted in user


def stolen_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    """The share of the CPUs' time the host took between two `cpu_ticks` readings."""
    return (after[0] - before[0]) / max(1, after[1] - before[1])


class EmulatorProcess:
    """The simulated backends and the emulator, each in a child process.

    ``.endpoints``: ``gateway`` (chat URL), ``key`` (subscription key) and ``token`` (a bearer token for the full
    policy's validate-jwt); ``direct`` (the same chat request
    straight to the backend openai-eastus) and ``direct_key`` (its api-key); ``backends`` (name -> base URL).
    ``cache_seconds``: the semantic cache on, its entries expiring after that many seconds.
    ``full_policy``: toolkit.yaml's whole policy (see `bench_environment`). ``embedder``: see `serve_backends`.
    """

    def __init__(self, *, cache_seconds: int | None = None, full_policy: bool = False, embedder: str = "model") -> None:
        self.cache_seconds = cache_seconds
        self.full_policy = full_policy
        self.embedder = embedder

    def __enter__(self) -> EmulatorProcess:
        self.backends = _Child("backends", self.embedder)
        try:
            spec = {"backends": self.backends.info, "cache_seconds": self.cache_seconds, "full_policy": self.full_policy}
            self.gateway = _Child("serve", json.dumps(spec))
        except BaseException:
            self.backends.stop()
            raise
        urls = self.backends.info["urls"]
        self.endpoints = {**self.gateway.info, "direct": urls["openai-eastus"] + CHAT_PATH,
                          "direct_key": self.backends.info["key"], "backends": urls}
        return self

    def rss_mib(self) -> float:
        """Resident memory of the emulator process."""
        return rss_mib(self.gateway.info["pid"])

    def __exit__(self, *exc: object) -> None:
        self.gateway.stop()
        self.backends.stop()


class Connection:
    """One keep-alive HTTP/1.1 connection that POSTs JSON (``body``) and reads whole responses (Content-Length)."""

    def __init__(self, url: str, headers: dict[str, str], body: bytes = CHAT) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.target = parts.path + (f"?{parts.query}" if parts.query else "")
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.set_body(body)

    def set_body(self, body: bytes) -> None:
        self.request = (f"POST {self.target} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
                        f"{self.extra}Content-Length: {len(body)}\r\n\r\n").encode() + body

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

    async def post_counted(self) -> bool:
        """One request; False (and a fresh connection) when it failed: a non-200 answer or a broken connection."""
        try:
            return await self.post() == 200
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            self.close()
            await self.open()
            return False

    def close(self) -> None:
        self.writer.close()


class Chain:
    """One client request made of several POSTs in a row, each on its own keep-alive `Connection`: what a client
    does itself when no gateway does it for it (e.g. an embeddings call, then the chat call). ``steps``: (connection,
    its body made from the chat request's body). Fails, as a whole, when any step fails."""

    def __init__(self, steps: list[tuple[Connection, Callable[[bytes], bytes]]]) -> None:
        self.steps = steps
        self.set_body(CHAT)

    def set_body(self, body: bytes) -> None:
        for connection, make in self.steps:
            connection.set_body(make(body))

    async def open(self) -> None:
        await asyncio.gather(*(connection.open() for connection, _ in self.steps))

    async def post_counted(self) -> bool:
        for connection, _ in self.steps:
            if not await connection.post_counted():
                return False
        return True

    def close(self) -> None:
        for connection, _ in self.steps:
            connection.close()


def embeddings_request(chat_body: bytes) -> bytes:
    """The embeddings call the semantic cache makes for ``chat_body``: its messages' text joined by newlines
    (system messages dropped, as toolkit.yaml's ignore-system-messages), as ``{"input": [text], "encoding_format":
    "base64"}``: the same body, so the backend does the same work on every path."""
    messages = json.loads(chat_body)["messages"]
    text = "\n".join(m["content"] for m in messages if m["role"] not in ("system", "developer"))
    return json.dumps({"input": [text], "encoding_format": "base64"}).encode()


Client = Connection | Chain


async def counted_latencies(url: str, headers: dict[str, str], count: int,
                            body: Callable[[int], bytes] | None = None, *,
                            client: Callable[[], Client] | None = None) -> tuple[list[float], int]:
    """(latency in ms of each request that succeeded, failed requests) of ``count`` requests one after
    another on one keep-alive connection; ``body(n)``: the n-th request's body (default: the same chat request).
    ``client``: makes the client (default: one `Connection` to ``url`` with ``headers``)."""
    connection = client() if client is not None else Connection(url, headers)
    await connection.open()
    samples, errors = [], 0
    try:
        for index in range(count):
            if body is not None:
                connection.set_body(body(index))
            start = time.perf_counter()
            ok = await connection.post_counted()
            elapsed = (time.perf_counter() - start) * 1000
            if ok:
                samples.append(elapsed)
            else:
                errors += 1
    finally:
        connection.close()
    return samples, errors


async def sequential_latencies(url: str, headers: dict[str, str], count: int, *,
                              client: Callable[[], Client] | None = None) -> list[float]:
    """Latency (ms) of ``count`` requests one after another on one connection; any failure raises."""
    samples, errors = await counted_latencies(url, headers, count, client=client)
    if errors:
        raise RuntimeError(f"{errors} of {count} requests to {url} failed")
    return samples


async def throughput(url: str, headers: dict[str, str], *, connections: int, seconds: float,
                     max_requests: int | None = None,
                     body: Callable[[int], bytes] | None = None,
                     client: Callable[[], Client] | None = None) -> tuple[float, int, int]:
    """(requests/s, requests, failed requests) with ``connections`` concurrent keep-alive connections.

    ``body(n)``: the body of the n-th request (default: the same chat request every time); ``client``: makes
    each concurrent client (default: a `Connection` to ``url`` with ``headers``).
    """
    pool = [client() if client is not None else Connection(url, headers) for _ in range(connections)]
    await asyncio.gather(*(c.open() for c in pool))
    deadline = time.perf_counter() + seconds
    done = errors = 0

    async def worker(connection: Connection) -> None:
        nonlocal done, errors
        while time.perf_counter() < deadline and (max_requests is None or done < max_requests):
            if body is not None:
                connection.set_body(body(done))
            done += 1
            if not await connection.post_counted():
                errors += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in pool))
    elapsed = time.perf_counter() - start
    for connection in pool:
        connection.close()
    return done / elapsed, done, errors


def alternated(measures: dict[str, Callable[[], T]], rounds: int) -> dict[str, list[T]]:
    """Each measure's result per round, the measures run in rounds whose order flips every round (`_ab.alternate`)."""
    results: dict[str, list[T]] = {name: [] for name in measures}

    def run(name: str) -> Callable[[], None]:
        return lambda: results[name].append(measures[name]())

    alternate({name: run(name) for name in measures}, rounds)
    return results


if __name__ == "__main__" and sys.argv[1:2] == ["backends"]:
    sys.path.insert(0, str(REPO))
    serve_backends(sys.argv[2] if len(sys.argv) > 2 else "model")
elif __name__ == "__main__" and sys.argv[1:2] == ["serve"]:
    sys.path.insert(0, str(REPO))
    serve(json.loads(sys.argv[2]))
