"""Completion tokens counted from a relayed event stream, whatever its chunking."""

from __future__ import annotations

import asyncio
import json

from toolkit.emulator.policy.streamed_usage import CompletionTextCounter, CountedStream
from toolkit.emulator.tokens import estimate_text_tokens

from .policy_helpers import ChunkStream


def _event(index: int, content: str) -> bytes:
    return b"data: " + json.dumps({"choices": [{"index": index, "delta": {"content": content}}]}).encode() + b"\n\n"


STREAM = (b'data: {"choices":[],"prompt_filter_results":[]}\n\n' + _event(0, "Hello ") + _event(1, "Other ")
          + _event(0, "world, this is long.") + _event(1, "answer.") + b"data: [DONE]\n\n")


def test_counts_each_choice_in_any_chunking() -> None:
    expected = estimate_text_tokens("Hello world, this is long.") + estimate_text_tokens("Other answer.")
    for size in (1, 7, 64, len(STREAM)):
        counter = CompletionTextCounter()
        for start in range(0, len(STREAM), size):
            counter.feed(STREAM[start:start + size])
        assert counter.completion_tokens == expected, size


def test_settles_once_at_the_end_or_on_close() -> None:
    settled: list[int] = []

    async def read_all() -> list[bytes]:
        stream = CountedStream(ChunkStream([STREAM[:30], STREAM[30:]]), settled.append)
        chunks = [chunk async for chunk in stream]
        stream.close()
        return chunks

    assert b"".join(asyncio.run(read_all())) == STREAM
    assert len(settled) == 1 and settled[0] > 0

    partial: list[int] = []
    inner = ChunkStream([_event(0, "Only this part "), _event(0, "never read")])
    stream = CountedStream(inner, partial.append)
    asyncio.run(stream.__anext__())
    stream.close()
    assert partial == [estimate_text_tokens("Only this part ")] and inner.closed


def test_counts_past_lines_that_hold_no_content() -> None:
    odd_lines = [
        b"data:\n",  # an empty data line
        b"data: [DONE]\n",  # the end marker, even where more follows
        b"data: not json\n",
        b"data: [1, 2]\n", b"data: 5\n", b'data: "text"\n',  # JSON, but no event object
        b'data: {"choices": [5, "x", null]}\n',  # choices that are no objects
        b'data: {"choices": [{"delta": "text"}, {"delta": null}]}\n',  # deltas that are no objects
        b'data: {"choices": [{"delta": {"content": 5}}, {"delta": {"content": ""}}]}\n',  # no text
        b": a comment line\n", b"event: message\n",
    ]
    counter = CompletionTextCounter()
    counter.feed(b"".join(odd_lines) + b'data:{"choices":[{"delta":{"content":"counted text"}}]}\n\n')
    assert counter.completion_tokens == estimate_text_tokens("counted text")  # "data:" with no space counts too
