"""Streaming time to first byte: a `stream: true` chat request through the emulator's gateway (pool + breaker +
retry + token limit) and straight to the simulated backend (zero simulated latency), measured in the same run.

Time to first byte = from sending the request to receiving the first server-sent event (`data: ...`). The
backends and the emulator run in their own processes; the two paths are timed in alternated rounds (min /
median / max over the rounds: the machine may be shared).
Goal: the gateway's p50 within 2 ms of the backend's (it relays events, it does not buffer the stream).
Run: python benchmarks/streaming_ttfb.py [--rounds 5] [--requests 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

from _load import Connection, EmulatorProcess, alternated

GOAL_TTFB_MS = 2.0
STREAM = b'{"messages":[{"role":"user","content":"What is climate change?"}],"max_tokens":16,"stream":true}'


class StreamingConnection(Connection):
    """A keep-alive connection that POSTs a streamed chat request and reads its chunked events."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        super().__init__(url, headers, STREAM)

    async def _chunk(self) -> bytes:
        size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
        return (await self.reader.readexactly(size + 2))[:-2]

    async def post(self) -> float:
        """Milliseconds to the first event; the rest of the stream is read (and checked) before returning."""
        start = time.perf_counter()
        self.writer.write(self.request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        if head[9:12] != b"200" or b"chunked" not in head.lower():
            raise RuntimeError(f"not a streamed 200: {head[:200]!r}")
        first = await self._chunk()
        ttfb = (time.perf_counter() - start) * 1000
        if not first.startswith(b"data: "):
            raise RuntimeError(f"first chunk is not an event: {first[:80]!r}")
        body = first
        while chunk := await self._chunk():
            body += chunk
        if not body.endswith(b"data: [DONE]\n\n"):
            raise RuntimeError("the stream did not end with [DONE]")
        return ttfb

    def close(self) -> None:
        self.writer.close()


async def ttfb_samples(url: str, headers: dict[str, str], count: int) -> list[float]:
    connection = StreamingConnection(url, headers)
    await connection.open()
    try:
        return [await connection.post() for _ in range(count)]
    finally:
        connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200, help="streamed requests per path and round")
    args = parser.parse_args()
    with EmulatorProcess() as emulator:
        urls = emulator.endpoints
        paths = {"direct": (urls["direct"], {"api-key": urls["direct_key"]}),
                 "gateway": (urls["gateway"], {"api-key": urls["key"]})}
        for url, headers in paths.values():  # warm up both paths
            asyncio.run(ttfb_samples(url, headers, 100))
        rounds = alternated({name: (lambda p=path: statistics.median(asyncio.run(ttfb_samples(*p, args.requests))))
                             for name, path in paths.items()}, args.rounds)
    added = [g - d for g, d in zip(rounds["gateway"], rounds["direct"], strict=True)]
    print(f"streamed chat requests, {args.rounds} alternated rounds of {args.requests} per path on one keep-alive "
          "connection; p50 time to the first event, min / median / max over the rounds (ms):")
    for name, values in rounds.items():
        print(f"  {name:8} {min(values):6.3f} / {statistics.median(values):6.3f} / {max(values):6.3f}")
    print(f"  added    {min(added):6.3f} / {statistics.median(added):6.3f} / {max(added):6.3f}")
    ok = statistics.median(added) <= GOAL_TTFB_MS
    print(f"{'PASS' if ok else 'FAIL'}: the gateway adds {statistics.median(added):.3f} ms to the time to first byte "
          f"(goal <= {GOAL_TTFB_MS} ms)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
