"""What a simulated Azure OpenAI instance does: latency, rate limits, queued faults (pure, no I/O)."""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from toolkit.errors import InputError

WINDOW_SECONDS = 60.0


def _number(name: str, value: Any, *, minimum: float = 0.0, maximum: float | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise InputError(f"simulator behaviour: {name} must be a number, got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum:g} and {maximum:g}" if maximum is not None else f">= {minimum:g}"
        raise InputError(f"simulator behaviour: {name} must be {bound}, got {value!r}")


def _optional_positive_int(name: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"simulator behaviour: {name} must be a positive integer or null, got {value!r}")


def _status(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 400 <= value <= 599:
        raise InputError(f"simulator behaviour: {name} must be an HTTP error status (400-599), got {value!r}")


@dataclass(frozen=True)
class BackendBehaviour:
    """How one simulated instance behaves; validated on construction, JSON-serialisable."""

    latency_base_ms: float = 0.0
    latency_per_token_ms: float = 0.0  # per completion token, like the aoai-api-simulator
    latency_jitter_ms: float = 0.0  # uniform in [0, jitter], from the instance's seeded RNG
    tokens_per_minute: int | None = None  # None = unlimited
    requests_per_minute: int | None = None
    error_rate: float = 0.0  # share of requests answered with error_status (seeded RNG)
    error_status: int = 500
    error_retry_after: float | None = None  # seconds, sent as retry-after on error_rate answers

    def __post_init__(self) -> None:
        _number("latency_base_ms", self.latency_base_ms)
        _number("latency_per_token_ms", self.latency_per_token_ms)
        _number("latency_jitter_ms", self.latency_jitter_ms)
        _optional_positive_int("tokens_per_minute", self.tokens_per_minute)
        _optional_positive_int("requests_per_minute", self.requests_per_minute)
        _number("error_rate", self.error_rate, maximum=1.0)
        _status("error_status", self.error_status)
        if self.error_retry_after is not None:
            _number("error_retry_after", self.error_retry_after)

    @property
    def effective_requests_per_minute(self) -> int | None:
        """The requests-per-minute limit in force: the configured one, else Azure's ratio to the token limit.

        Azure OpenAI sets a deployment's RPM in proportion to its TPM, 6 RPM per 1,000 TPM for chat models
        ("Manage Azure OpenAI quota", learn.microsoft.com/azure/ai-services/openai/how-to/quota); at least 1.
        """
        if self.requests_per_minute is not None or self.tokens_per_minute is None:
            return self.requests_per_minute
        return max(1, self.tokens_per_minute * 6 // 1000)

    def to_dict(self) -> dict[str, Any]:
        """The behaviour as a JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BackendBehaviour:
        """Build from a dict (e.g. a control API body); unknown keys are refused."""
        if not isinstance(data, Mapping):
            raise InputError(f"simulator behaviour must be an object, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(
                f"simulator behaviour: unknown field(s) {', '.join(map(str, unknown))}",
                hint=f"known fields: {', '.join(sorted(known))}",
            )
        return cls(**data)

    def updated(self, changes: Mapping[str, Any]) -> BackendBehaviour:
        """A copy with ``changes`` applied (PATCH semantics), validated like ``from_dict``."""
        return self.from_dict({**self.to_dict(), **changes})


@dataclass(frozen=True)
class Fault:
    """One queued fault: answer with ``status`` (kind "status") or hang first (kind "hang")."""

    kind: str  # "status" | "hang"
    status: int | None = None
    retry_after: float | None = None
    body: dict[str, Any] | None = None
    hang_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.kind == "status":
            _status("status", self.status)
        elif self.kind == "hang":
            _number("hang_seconds", self.hang_seconds)
        else:
            raise InputError(f"simulator fault: kind must be 'status' or 'hang', got {self.kind!r}")
        if self.retry_after is not None:
            _number("retry_after", self.retry_after)
        if self.body is not None and not isinstance(self.body, dict):
            raise InputError("simulator fault: body must be a JSON object")

    def to_dict(self) -> dict[str, Any]:
        """The fault as a JSON-ready dict."""
        return dataclasses.asdict(self)


class FaultQueue:
    """Faults that the next requests receive, in order; each entry serves ``count`` requests."""

    def __init__(self) -> None:
        self._entries: deque[list[Any]] = deque()  # [Fault, remaining]

    def push(self, fault: Fault, count: int = 1) -> None:
        """Queue ``fault`` for the next ``count`` requests (after anything already queued)."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise InputError(f"simulator fault: count must be a positive integer, got {count!r}")
        self._entries.append([fault, count])

    def pop(self) -> Fault | None:
        """The fault for the current request, or None when the queue is empty."""
        if not self._entries:
            return None
        entry = self._entries[0]
        entry[1] -= 1
        if entry[1] == 0:
            self._entries.popleft()
        return entry[0]

    def clear(self) -> None:
        """Drop every queued fault."""
        self._entries.clear()

    def pending(self) -> list[dict[str, Any]]:
        """Queued faults with their remaining counts, JSON-ready."""
        return [{**fault.to_dict(), "remaining": remaining} for fault, remaining in self._entries]

    def __len__(self) -> int:
        return sum(remaining for _, remaining in self._entries)


@dataclass(frozen=True)
class Admission:
    """The rate limiter's answer for one request."""

    allowed: bool
    exceeded: str | None  # "tokens" | "requests" when refused
    retry_after: float  # seconds until the current window ends (0 when allowed)
    remaining_tokens: int | None  # None = unlimited
    remaining_requests: int | None


class MinuteWindows:
    """Token and request counters over fixed one-minute windows of an injected clock.

    Windows are aligned to whole minutes of the clock (AOAI resets its estimate each minute).
    Refused requests are not counted.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._window_start = -math.inf
        self.tokens = 0
        self.requests = 0

    def _roll(self) -> float:
        now = self._clock()
        start = math.floor(now / WINDOW_SECONDS) * WINDOW_SECONDS
        if start != self._window_start:
            self._window_start = start
            self.tokens = 0
            self.requests = 0
        return now

    def admit(self, tokens: int, tokens_per_minute: int | None, requests_per_minute: int | None) -> Admission:
        """Count a request costing ``tokens`` if both limits allow it, else refuse it."""
        now = self._roll()
        exceeded = None
        if requests_per_minute is not None and self.requests + 1 > requests_per_minute:
            exceeded = "requests"
        elif tokens_per_minute is not None and self.tokens + tokens > tokens_per_minute:
            exceeded = "tokens"
        if exceeded is None:
            self.tokens += tokens
            self.requests += 1
        retry_after = 0.0 if exceeded is None else self._window_start + WINDOW_SECONDS - now
        remaining = self._remaining(tokens_per_minute, requests_per_minute)
        return Admission(exceeded is None, exceeded, retry_after, *remaining)

    def peek(self, tokens_per_minute: int | None, requests_per_minute: int | None) -> Admission:
        """What is left in the current window, counting nothing."""
        self._roll()
        return Admission(True, None, 0.0, *self._remaining(tokens_per_minute, requests_per_minute))

    def _remaining(self, tpm: int | None, rpm: int | None) -> tuple[int | None, int | None]:
        return (
            None if tpm is None else max(tpm - self.tokens, 0),
            None if rpm is None else max(rpm - self.requests, 0),
        )

    def clear(self) -> None:
        """Forget the current window."""
        self._window_start = -math.inf
        self.tokens = 0
        self.requests = 0
