"""Sends chat completions through the gateway and turns each response into an Observation.

Nothing here reads the target's internals: the backend comes from a response header mapped through
the configured regions, a cache hit is a completion id seen before, tokens come from `usage`.
"""

from __future__ import annotations

import json
import random
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from toolkit.validate.expectations import Expectations
from toolkit.validate.observations import Observation, ObservationLog
from toolkit.validate.target import Target

TRACE_HEADERS = ("x-emulator-trace-id", "apim-request-id", "x-ms-request-id")

# A nonce must change what a prompt *means* to a semantic cache, not only its bytes: a hex suffix keeps
# paraphrase distance (~0.03 with MiniLM), eight random words from this list push it past 0.15.
NONCE_WORDS = tuple("""
apple river castle violin tiger harbor cobalt meadow piano rocket glacier lantern velvet canyon falcon orchid
marble thunder pepper saddle whistle copper island jungle kettle ladder mirror needle oyster parrot quilt ribbon
sapphire tunnel umbrella vortex walnut yacht zephyr anchor bishop candle dragon engine fossil garden helmet igloo
jacket badger cactus dolphin emerald feather goblet hammock iceberg jasmine kayak lemon mango nectar onion
pebble quartz raven spider tulip unicorn volcano wizard banjo compass desert eclipse fjord granite hazelnut
""".split())


@dataclass(frozen=True)
class RequestShape:
    """What every request carries besides its prompt (from the scenario file)."""

    max_tokens: int = 16
    system: str | None = "You are a terse assistant."


@dataclass(frozen=True)
class Outgoing:
    """One prepared request: what an engine (built-in, Locust) sends, knowing nothing of scenarios."""

    url: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass(frozen=True)
class Reply:
    """What came back for an Outgoing (status 0: no response); headers may be only the wanted ones."""

    started: float          # epoch seconds when the request was sent
    latency_ms: float
    status: int
    headers: dict[str, str]
    content: bytes
    error: str | None = None  # why no response came (status 0): the exception's class name


class Caller:
    """One client session against a target: sends, observes, remembers completion ids. Without an ``http`` client
    it only prepares requests, for an engine to send on its own clients (`toolkit load`'s soak)."""

    def __init__(self, http: httpx.Client | None, target: Target, expectations: Expectations, log: ObservationLog,
                 *, backend_header: str = "x-ms-region", seed: int | None = None) -> None:
        self.http, self.target, self.expect, self.log = http, target, expectations, log
        self.backend_header = backend_header
        self.url = target.gateway_url + expectations.chat_path()
        self._seen_ids: set[str] = set()
        self._token: str | None = None
        self._words = random.Random(seed if seed is not None else secrets.randbits(32))
        regions: dict[str, list[str]] = {}
        for member in expectations.members:
            if member.region:
                regions.setdefault(member.region, []).append(member.backend)
        self.regions = regions

    def ambiguous_regions(self) -> dict[str, list[str]]:
        """Regions shared by several pool members: the header cannot say which of them served."""
        return {region: names for region, names in self.regions.items() if len(names) > 1}

    def nonce(self) -> str:
        """A per-request marker that makes a prompt unique, also to a semantic cache (so it cannot answer)."""
        return nonce(self._words)

    def token(self) -> str | None:
        """The valid JWT requests carry when validate-jwt is configured (fetched once)."""
        if self.expect.jwt is None:
            return None
        if self._token is None:
            audience = self.expect.jwt.audiences[0] if self.expect.jwt.audiences else ""
            self._token = self.target.valid_token(audience)
        return self._token

    def headers(self, *, key: str | None = None, token: str | None | bool = True) -> dict[str, str]:
        """Subscription key (the target's unless ``key``) and JWT (the valid one unless ``token``; False: none)."""
        headers: dict[str, str] = {}
        subscription = key if key is not None else self.target.subscription_key
        if subscription:
            headers[self.expect.key_header] = subscription
        bearer = self.token() if token is True else (token or None)
        if bearer and self.expect.jwt is not None:
            scheme = self.expect.jwt.scheme
            headers[self.expect.jwt.header_name] = f"{scheme} {bearer}" if scheme else bearer
        elif isinstance(token, str) and token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def prepare(self, prompt: str, shape: RequestShape, *, key: str | None = None, token: str | None | bool = True,
                headers: dict[str, str] | None = None, stream: bool = False,
                max_tokens: int | None = None) -> Outgoing:
        """The chat completion for ``prompt``, ready for any engine to send."""
        messages = ([{"role": "system", "content": shape.system}] if shape.system else [])
        messages.append({"role": "user", "content": prompt})
        body: dict[str, Any] = {"messages": messages, "max_tokens": max_tokens or shape.max_tokens}
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        send_headers = headers if headers is not None else self.headers(key=key, token=token)
        return Outgoing(self.url, send_headers, body)

    def wanted_headers(self) -> tuple[str, ...]:
        """The response headers an observation reads (an engine may return only these)."""
        remaining = self.expect.tokens.remaining_header if self.expect.tokens else None
        return tuple(h.lower() for h in (self.backend_header, "retry-after", *TRACE_HEADERS, remaining) if h)

    def send(self, outgoing: Outgoing) -> Reply:
        """The built-in engine: one request on this caller's httpx client."""
        if self.http is None:
            raise RuntimeError("this caller only prepares requests: it was given no HTTP client to send them on")
        return post(self.http, outgoing)

    def record(self, scenario: str, prompt_id: str, reply: Reply, *, phase: str = "") -> Observation:
        """Turn a reply (from any engine) into a row of the log: backend from the region header, cache hit
        from a completion id seen before, tokens from usage."""
        content, response_headers = reply.content, httpx.Headers(reply.headers)
        completion_id, usage = _completion(content, content.lstrip().startswith(b"data:"))
        hit = completion_id is not None and completion_id in self._seen_ids
        if completion_id:
            self._seen_ids.add(completion_id)
        region = response_headers.get(self.backend_header)
        names = self.regions.get(region or "", [])
        remaining = None
        if self.expect.tokens and self.expect.tokens.remaining_header:
            remaining = _int(response_headers.get(self.expect.tokens.remaining_header))
        return self.log.add(Observation(
            time=reply.started, scenario=scenario, prompt_id=prompt_id, status=reply.status,
            latency_ms=round(reply.latency_ms, 3), backend=names[0] if len(names) == 1 else None, region=region,
            cache_hit=hit, prompt_tokens=usage.get("prompt_tokens"), completion_tokens=usage.get("completion_tokens"),
            retry_after=_float(response_headers.get("retry-after")),
            trace_id=next((response_headers[h] for h in TRACE_HEADERS if h in response_headers), None),
            completion_id=completion_id, phase=phase, remaining_tokens=remaining,
        ))

    def ask(self, scenario: str, prompt_id: str, prompt: str, shape: RequestShape, *, phase: str = "",
            key: str | None = None, token: str | None | bool = True, headers: dict[str, str] | None = None,
            stream: bool = False, max_tokens: int | None = None) -> Observation:
        """Send one chat completion (built-in engine) and record what came back."""
        outgoing = self.prepare(prompt, shape, key=key, token=token, headers=headers, stream=stream,
                                max_tokens=max_tokens)
        return self.record(scenario, prompt_id, self.send(outgoing), phase=phase)


def post(http: httpx.Client, outgoing: Outgoing) -> Reply:
    """Send one prepared request on ``http`` (status 0 when no response came)."""
    started_wall, started = time.time(), time.perf_counter()
    try:
        response = http.post(outgoing.url, json=outgoing.body, headers=outgoing.headers)
        status, content, headers, error = response.status_code, response.content, dict(response.headers), None
    except httpx.HTTPError as exc:
        status, content, headers, error = 0, b"", {}, type(exc).__name__
    return Reply(started_wall, (time.perf_counter() - started) * 1000, status, headers, content, error)


def nonce(rng: random.Random, words: Sequence[str] = NONCE_WORDS) -> str:
    """Eight random words in parentheses: appended to a prompt, it changes what it means to a semantic cache."""
    return "(" + " ".join(rng.sample(list(words), 8)) + ")"


def with_prompt(body: dict[str, Any], text: str) -> dict[str, Any]:
    """A copy of a chat body whose last message says ``text``."""
    messages = [dict(message) for message in body["messages"]]
    messages[-1]["content"] = text
    return {**body, "messages": messages}


def _completion(content: bytes, streamed: bool) -> tuple[str | None, dict[str, int]]:
    """The completion id and usage of a JSON body or of an SSE stream (its chunks share one id); a target
    may answer a stream request with plain JSON, so the body decides, not the request."""
    if streamed:
        completion_id, usage = None, {}
        for line in content.decode("utf-8", "replace").splitlines():
            if not line.startswith("data:") or line.strip() == "data: [DONE]":
                continue
            try:
                chunk = json.loads(line[5:])
            except ValueError:
                continue
            completion_id = completion_id or chunk.get("id")
            if isinstance(chunk.get("usage"), dict):
                usage = chunk["usage"]
        return completion_id, usage
    try:
        document = json.loads(content) if content else {}
    except ValueError:
        return None, {}
    if not isinstance(document, dict):
        return None, {}
    usage = document.get("usage") if isinstance(document.get("usage"), dict) else {}
    identifier = document.get("id") if isinstance(document.get("id"), str) else None
    return identifier, usage


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
