"""Shared test helpers for the policy engine: a fake services object, contexts, documents."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pytest

from toolkit.emulator.cache.memory import MemoryCacheStore
from toolkit.emulator.gateway.token_counter import TokenLimiter
from toolkit.emulator.policy import (
    BackendResponse,
    CompiledPolicy,
    PolicyRejected,
    RequestContext,
    Trace,
    compile_policy,
    run_after_answer,
    run_pipeline,
)
from toolkit.emulator.policy.registry import SECTIONS

NOW = 1_700_000_020.0  # 40 s into a minute: token windows end 20 s later
CHAT_PATH = "/openai/openai/deployments/gpt-4o-mini/chat/completions"
SECTION_TAGS = {"on_error": "on-error"}


def run(coro: Any) -> Any:
    """Run a coroutine to completion (pytest-asyncio is not installed)."""
    return asyncio.run(coro)


def document(**sections: str) -> str:
    """``<policies>`` with the given sections (keyword ``on_error`` for on-error); others omitted."""
    parts = "".join(f"<{SECTION_TAGS.get(k, k)}>{v}</{SECTION_TAGS.get(k, k)}>" for k, v in sections.items())
    return f"<policies>{parts}</policies>"


def compile_api(xml: str, **options: Any) -> CompiledPolicy:
    """Compile at API scope."""
    return compile_policy(xml, "api", **options)


def rejected(xml: str, scope: str = "api", **options: Any) -> PolicyRejected:
    """The PolicyRejected raised for ``xml``."""
    with pytest.raises(PolicyRejected) as info:
        compile_policy(xml, scope, **options)
    return info.value


def assert_sections(element: str, allowed: Iterable[str], scope: str = "api", **options: Any) -> None:
    """``element`` compiles in each allowed section and is refused, naming the section, in the others."""
    allowed = set(allowed)
    tag = re.match(r"<([a-z-]+)", element).group(1)  # type: ignore[union-attr]
    for section in SECTIONS:
        xml = f"<policies><{section}>{element}</{section}></policies>"
        if section in allowed:
            compile_policy(xml, scope, **options)
        else:
            error = rejected(xml, scope, **options)
            assert f"not allowed in the {section} section" in str(error), str(error)
            assert f"<{tag}>" in str(error) or "fragment" in str(error), str(error)
            assert error.line == 1


def chat_body(*messages: tuple[str, str], **extra: Any) -> bytes:
    """A chat-completions request body from (role, content) pairs."""
    return json.dumps({"messages": [{"role": r, "content": c} for r, c in messages], **extra}).encode()


def make_ctx(
    *,
    method: str = "POST",
    path: str = CHAT_PATH,
    query: str = "api-version=2024-10-21",
    headers: Iterable[tuple[str, str]] = (),
    body: bytes | None = None,
    trace: bool = True,
    **fields: Any,
) -> RequestContext:
    """A request to the sample API (API path ``openai``), traced by default."""
    fields.setdefault("subscription_id", "sub-1")
    return RequestContext(
        method, path, query=query, headers=headers,
        body=chat_body(("user", "What is climate change?")) if body is None else body,
        api_path="openai", api_id="azure-openai", trace=Trace() if trace else None, **fields,
    )


def response(status: int = 200, body: Any = None, headers: Iterable[tuple[str, str]] = ()) -> BackendResponse:
    """A backend response with a JSON body (default: a chat completion with usage)."""
    if body is None:
        body = {"id": f"chatcmpl-{status}", "choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 5,
                                                                       "total_tokens": 15}}
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return BackendResponse(status, "", [("content-type", "application/json"), *headers], raw)


def word_vector(text: str, dim: int = 64) -> np.ndarray:
    """A deterministic bag-of-words unit vector: same words → distance 0, no shared word → ~1."""
    vector = np.zeros(dim, dtype=np.float32)
    for word in re.findall(r"[a-z]+", text.lower()):
        vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % dim] += 1.0
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


class FakeServices:
    """GatewayServices with scripted backend answers, a manual clock and recorded calls."""

    def __init__(self, *, backends: Mapping[str, Any] | None = None, answers: Iterable[Any] = ()) -> None:
        self.now = NOW
        self.rng = random.Random(7)
        self.token_limiter = TokenLimiter(self.clock)
        self.cache_store: Any = MemoryCacheStore()
        self.jwt_keys: Any = None
        self.backends = dict(backends or {})
        self.answers = list(answers)
        self.default_answer: Any = response()
        self.calls: list[dict[str, Any]] = []
        self.sleeps: list[float] = []
        self.fragments: dict[str, CompiledPolicy] = {}
        self.authorities: dict[str, Any] = {}
        self.embed_calls: list[tuple[str, list[str]]] = []
        self.embed_error: Exception | None = None
        self.embedder: Callable[[list[str]], np.ndarray] = lambda texts: np.stack([word_vector(t) for t in texts])
        self.http = FakeHttp()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def backend(self, backend_id: str) -> Any:
        return self.backends.get(backend_id)

    def is_available(self, name: str) -> bool:
        breaker = getattr(self.backends.get(name), "breaker", None)
        return breaker is None or not breaker.is_open()

    async def forward(self, ctx: RequestContext, url: str, timeout: float, *, follow_redirects: bool = False,
                      body: bytes | None = None, extra_headers: Iterable[tuple[str, str]] = ()) -> BackendResponse:
        self.calls.append({"url": url, "timeout": timeout, "method": ctx.request_method,
                           "headers": ctx.request_headers.to_dict(), "backend": ctx.selected_backend,
                           "extra_headers": list(extra_headers),
                           "body": ctx.request_body if body is None else body, "follow_redirects": follow_redirects})
        answer = self.answers.pop(0) if self.answers else self.default_answer
        if isinstance(answer, Exception):
            raise answer
        return response(answer) if isinstance(answer, int) else answer

    async def embed(self, backend_id: str, texts: list[str]) -> np.ndarray:
        self.embed_calls.append((backend_id, list(texts)))
        if self.embed_error is not None:
            raise self.embed_error
        return self.embedder(texts)

    def fragment(self, fragment_id: str) -> CompiledPolicy | None:
        return self.fragments.get(fragment_id)

    def azure_ad_authority(self, tenant_id: str) -> Any:
        return self.authorities.get(tenant_id)

    async def run_blocking(self, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(*args)


class FakeHttp:
    """The services' HTTP client for requests policies send themselves: records calls, answers per path."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.routes: dict[str, Any] = {}  # URL path → (status, JSON body) or an exception
        self.default: Any = (200, {"ok": True})

    async def request(self, method: str, url: str, headers: Any, body: bytes, timeout: float) -> Any:
        from urllib.parse import urlsplit

        from toolkit.emulator.gateway.http_client import HttpResponse

        self.calls.append({"method": method, "url": url, "headers": dict(headers), "body": body, "timeout": timeout})
        answer = self.routes.get(urlsplit(url).path, self.default)
        if isinstance(answer, Exception):
            raise answer
        status, payload = answer
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return HttpResponse(status, "OK" if status == 200 else "Error", [("content-type", "application/json")], raw)


def execute(chain: list[CompiledPolicy | None], services: Any = None, **ctx_options: Any) -> RequestContext:
    """Run one request through ``chain`` (and, as the gateway does once the answer is sent, the work the policies
    left for after it) and return its context."""
    services = services if services is not None else FakeServices()
    ctx = make_ctx(**ctx_options)
    run(answered(chain, ctx, services))
    return ctx


async def answered(chain: list[CompiledPolicy | None], ctx: RequestContext, services: Any) -> RequestContext:
    """``ctx`` through ``chain``, then the work the policies left for after the answer, as the gateway runs them."""
    await run_pipeline(chain, ctx, services)
    await run_after_answer(ctx)
    return ctx


def api(inbound: str = "<base/>", backend: str = "<base/>", outbound: str = "<base/>", on_error: str = "<base/>",
        **options: Any) -> CompiledPolicy:
    """An API-scope policy from its four sections."""
    return compile_api(document(inbound=inbound, backend=backend, outbound=outbound, on_error=on_error), **options)


def product(inbound: str = "<base/>", backend: str = "<base/>", outbound: str = "<base/>", on_error: str = "<base/>",
            **options: Any) -> CompiledPolicy:
    """A product-scope policy from its four sections."""
    return compile_policy(document(inbound=inbound, backend=backend, outbound=outbound, on_error=on_error), "product",
                          **options)


def notes(ctx: RequestContext, source: str) -> list[tuple[str, Any]]:
    """(message, data) of each trace event that ``source`` (an element name) recorded, in order."""
    return [(event["message"], event["data"]) for event in ctx.trace.find(source)]


def body_json(ctx: RequestContext) -> Any:
    """The response body as JSON."""
    return json.loads(ctx.response_body)


class ChunkStream:
    """A backend's response stream (``ctx.response_stream``) that yields ``chunks``; `close` is recorded."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks, self.closed = list(chunks), False

    def __aiter__(self) -> ChunkStream:
        return self

    async def __anext__(self) -> bytes:
        if not self.chunks:
            raise StopAsyncIteration
        return self.chunks.pop(0)

    def close(self) -> None:
        self.closed = True
