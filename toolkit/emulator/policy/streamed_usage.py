"""Token usage of a streamed chat completion, estimated as its events pass through the gateway.

APIM documents that for streamed calls (``stream: true``) the token limit estimates prompt tokens
always and completion tokens too (azure-openai-token-limit-policy.md / llm-token-limit-policy.md,
usage notes): the gateway relays the events without buffering and counts the ``delta.content`` text
it relayed, per choice, with the emulator's usual estimate (`tokens.estimate_text_tokens`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from toolkit.emulator.tokens import estimate_text_tokens


class CompletionTextCounter:
    """Collects the ``delta.content`` of each choice from server-sent event bytes, in any chunking."""

    __slots__ = ("_pending", "_texts")

    def __init__(self) -> None:
        self._pending = b""
        self._texts: dict[int, list[str]] = {}

    def feed(self, chunk: bytes) -> None:
        """Read the complete lines of ``chunk`` (a partial last line waits for the next chunk)."""
        *lines, self._pending = (self._pending + chunk).split(b"\n")
        for line in lines:
            if not line.startswith(b"data:"):
                continue
            try:
                event = json.loads(line[5:])
            except ValueError:
                continue  # not JSON (the closing "[DONE]", an empty data line): nothing to count
            for choice in event.get("choices") or () if isinstance(event, dict) else ():
                delta = choice.get("delta") if isinstance(choice, dict) else None
                content = delta.get("content") if isinstance(delta, dict) else None
                if isinstance(content, str) and content:
                    self._texts.setdefault(int(choice.get("index") or 0), []).append(content)

    @property
    def completion_tokens(self) -> int:
        """Estimated completion tokens of what was relayed so far."""
        return sum(estimate_text_tokens("".join(parts)) for parts in self._texts.values())


class CountedStream:
    """Relays a response stream unchanged and calls ``on_end(completion_tokens)`` once, when it ends or closes."""

    __slots__ = ("_inner", "_counter", "_on_end")

    def __init__(self, inner: Any, on_end: Callable[[int], None]) -> None:
        self._inner = inner
        self._counter = CompletionTextCounter()
        self._on_end: Callable[[int], None] | None = on_end

    def __aiter__(self) -> CountedStream:
        return self

    async def __anext__(self) -> bytes:
        try:
            chunk = await self._inner.__anext__()
        except BaseException:
            self._end()
            raise
        self._counter.feed(chunk)
        return chunk

    def close(self) -> None:
        """Stop relaying (the client went away or a policy replaced the response): settle what was relayed."""
        self._inner.close()
        self._end()

    def _end(self) -> None:
        on_end, self._on_end = self._on_end, None
        if on_end is not None:
            on_end(self._counter.completion_tokens)
