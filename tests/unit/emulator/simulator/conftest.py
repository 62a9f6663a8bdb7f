"""Fixtures for the simulator tests: a settable clock, a recording sleep, a fake embedder, an in-process client."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import numpy as np
import pytest

from toolkit.emulator.simulator import BackendBehaviour, SimulatedBackend, create_backend_app

T = TypeVar("T")
EMBED_DIM = 8


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class RecordingSleep:
    """An injected sleep that records the requested durations and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def fake_embed(texts: list[str]) -> np.ndarray:
    """Deterministic cheap vectors: character histogram features, one row per text."""
    rows = np.zeros((len(texts), EMBED_DIM), dtype=np.float32)
    for i, text in enumerate(texts):
        for ch in text:
            rows[i, ord(ch) % EMBED_DIM] += 1.0
    return rows


class Sim:
    """Request helpers: paths, bodies, and POSTs through httpx.ASGITransport (no sockets)."""

    CHAT = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
    EMBEDDINGS = "/openai/deployments/embeddings/embeddings?api-version=2024-10-21"
    EMBED_DIM = EMBED_DIM
    embed = staticmethod(fake_embed)

    def path(self, operation: str) -> str:
        """The request path of ``"chat"`` or ``"embeddings"``."""
        return {"chat": self.CHAT, "embeddings": self.EMBEDDINGS}[operation]

    @staticmethod
    def chat_body(question: str = "What is climate change?", **extra: Any) -> dict[str, Any]:
        """A chat completions request body with one user message."""
        return {"messages": [{"role": "user", "content": question}], **extra}

    @staticmethod
    def backend(behaviour: BackendBehaviour | None = None, **kwargs: Any) -> SimulatedBackend:
        """An "openai-eastus" / "East US" backend with the fake embedder unless told otherwise."""
        kwargs.setdefault("embed", fake_embed)
        return SimulatedBackend("openai-eastus", "East US", behaviour, **kwargs)

    @staticmethod
    def run(backend: SimulatedBackend, scenario: Callable[[httpx.AsyncClient], Awaitable[T]]) -> T:
        """Run ``scenario(client)`` against ``backend`` in a fresh event loop."""

        async def main() -> T:
            transport = httpx.ASGITransport(app=create_backend_app(backend))
            async with httpx.AsyncClient(transport=transport, base_url="http://simulated") as client:
                return await scenario(client)

        return asyncio.run(main())

    def post_all(self, backend: SimulatedBackend, requests: list[tuple[str, Any]]) -> list[httpx.Response]:
        """POST each ``(path, json_body)`` in order; a bytes body is sent raw."""

        async def scenario(client: httpx.AsyncClient) -> list[httpx.Response]:
            responses = []
            for path, body in requests:
                if isinstance(body, bytes):
                    headers = {"content-type": "application/json"}
                    responses.append(await client.post(path, content=body, headers=headers))
                else:
                    responses.append(await client.post(path, json=body))
            return responses

        return self.run(backend, scenario)

    def post(self, backend: SimulatedBackend, path: str | None = None, body: Any = None) -> httpx.Response:
        """One POST (default: a chat completion)."""
        return self.post_all(backend, [(path or self.CHAT, self.chat_body() if body is None else body)])[0]


@pytest.fixture
def sim() -> Sim:
    """Request helpers for one test."""
    return Sim()


@pytest.fixture
def clock() -> FakeClock:
    """A clock at 0.0 that only moves when told."""
    return FakeClock()


@pytest.fixture
def sleep() -> RecordingSleep:
    """A sleep that records and returns at once."""
    return RecordingSleep()
