"""What handlers need from the gateway around them: the `GatewayServices` protocol and its data.

Handlers never build HTTP clients, breakers or stores themselves; they call these services, so
tests can hand in a fake and the gateway app hands in `DefaultGatewayServices`.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    import numpy as np

    from toolkit.emulator.cache.base import SemanticCacheStore
    from toolkit.emulator.gateway.breaker import CircuitBreaker
    from toolkit.emulator.gateway.pool import PoolRouter
    from toolkit.emulator.gateway.token_counter import TokenLimiter
    from toolkit.emulator.jwt_validation import OpenIdKeyCache
    from toolkit.emulator.policy.context import RequestContext
    from toolkit.emulator.policy.document import CompiledPolicy

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BackendResponse:
    """A backend's answer, fully read; or an event stream, relayed as it arrives (``stream``, body empty)."""

    status: int
    reason: str
    headers: Sequence[tuple[str, str]]
    body: bytes
    stream: Any = None


@dataclass(frozen=True, slots=True)
class SingleBackend:
    """A ``type: Single`` backend: its URL, its breaker (None without a circuitBreaker rule) and the
    headers / query parameters its ``credentials`` add to every call (named values resolved)."""

    name: str
    url: str
    breaker: CircuitBreaker | None = None
    credential_headers: tuple[tuple[str, str], ...] = ()
    credential_query: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class PoolBackend:
    """A ``type: Pool`` backend: the router that picks a member per attempt."""

    name: str
    router: PoolRouter


@dataclass(frozen=True, slots=True)
class AzureAdAuthority:
    """The stand-in for Entra ID used by validate-azure-ad-token: where its keys are, which issuers are valid."""

    openid_config_url: str
    issuers: tuple[str, ...]


class EmbeddingsFailure(Exception):
    """The embeddings backend did not produce vectors (unreachable, non-200, malformed answer)."""


class GatewayServices(Protocol):
    """The gateway state and I/O that policy handlers use."""

    rng: random.Random
    token_limiter: TokenLimiter
    cache_store: SemanticCacheStore | None
    jwt_keys: OpenIdKeyCache | None

    def clock(self) -> float:
        """Seconds since the epoch (the emulator clock: breakers, token windows, cache TTLs, JWT times)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of emulator time (retry intervals)."""
        ...

    def backend(self, backend_id: str) -> SingleBackend | PoolBackend | None:
        """The backend entity ``backend_id``, or None when it does not exist."""
        ...

    def is_available(self, name: str) -> bool:
        """Whether backend ``name`` may take traffic (its breaker is not open)."""
        ...

    async def forward(
        self,
        ctx: RequestContext,
        url: str,
        timeout: float,
        *,
        follow_redirects: bool = False,
        body: bytes | None = None,
        extra_headers: Sequence[tuple[str, str]] = (),
    ) -> BackendResponse:
        """Send the request to ``url`` (the full URL), ``extra_headers`` (backend credentials) replacing the
        request's headers of the same name; raises BackendConnectionFailure or BackendTimeout."""
        ...

    async def embed(self, backend_id: str, texts: list[str]) -> np.ndarray:
        """Vectors for ``texts`` from the embeddings backend ``backend_id``; raises EmbeddingsFailure."""
        ...

    def fragment(self, fragment_id: str) -> CompiledPolicy | None:
        """The current compiled policy fragment ``fragment_id``, or None."""
        ...

    def azure_ad_authority(self, tenant_id: str) -> AzureAdAuthority | None:
        """The Entra ID stand-in for a tenant, or None when the emulator has none."""
        ...

    async def run_blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking call (e.g. an openid-config fetch) without blocking the event loop."""
        ...


SleepFn = Callable[[float], Awaitable[Any]]
