"""What every semantic cache store stores and answers, and the errors stores raise.

Distance is 1 - cosine similarity; a lookup hits when the best distance is <= score_threshold
(APIM's score-threshold is a distance: lower is stricter). Time is passed in as `now` (seconds)
so callers and tests control expiry: an entry is alive while now < expires_at.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from toolkit.errors import InputError, RemoteError

if TYPE_CHECKING:
    import numpy as np

    from toolkit.emulator.cache.vector_index import UnitQuery


class CacheConfigError(InputError):
    """The semantic cache is configured wrongly (e.g. an unsupported store URL)."""


class CacheBackendError(RemoteError):
    """The external cache (Redis) failed or could not be reached."""


@dataclass(frozen=True)
class CacheEntry:
    """One cached response and the prompt it answered."""

    key: str
    partition: str
    prompt: str
    body: bytes
    headers: dict[str, str]
    status: int
    stored_at: float
    expires_at: float

    @classmethod
    def new(cls, partition: str, prompt: str, body: bytes, headers: dict[str, str], status: int,
            ttl_seconds: float, now: float) -> CacheEntry:
        """A fresh entry with its own key, alive for ``ttl_seconds`` after ``now``."""
        check_ttl(ttl_seconds)
        return cls(uuid.uuid4().hex, partition, prompt, bytes(body), dict(headers), int(status), now, now + ttl_seconds)


@dataclass(frozen=True)
class LookupResult:
    """Outcome of a lookup; best_distance is reported on a miss too (None if nothing was alive).

    ``query``: the normalised query, to hand to the same store's ``store(..., query=)`` for the same vector
    object, which then does not normalise it again (None from a store that does not offer it)."""

    hit: bool
    best_distance: float | None
    entry: CacheEntry | None
    entries_considered: int
    query: UnitQuery | None = field(default=None, compare=False, repr=False)


@runtime_checkable
class SemanticCacheStore(Protocol):
    """A store of responses keyed by prompt embeddings, partitioned by vary-by values."""

    def lookup(
        self, partition: str, vector: np.ndarray, score_threshold: float, now: float
    ) -> LookupResult:
        """Best alive entry of `partition` by distance; a hit when distance <= score_threshold."""
        ...

    def store(
        self,
        partition: str,
        vector: np.ndarray,
        prompt: str,
        body: bytes,
        headers: dict[str, str],
        status: int,
        ttl_seconds: float,
        now: float,
        query: UnitQuery | None = None,
    ) -> CacheEntry:
        """Store a response that stays alive for ttl_seconds after `now`.

        ``query``: a lookup's ``LookupResult.query``; used only when it was computed from this very `vector`."""
        ...

    def clear(self) -> None:
        """Remove every entry of every partition."""
        ...

    def count(self, now: float) -> int:
        """Number of entries alive at `now`, over all partitions."""
        ...

    def close(self) -> None:
        """Release connections; the store is unusable afterwards."""
        ...


HIT_TOLERANCE = 1e-6  # float32 rounding: an identical vector must hit at score_threshold 0


def is_hit(distance: float, score_threshold: float) -> bool:
    """Whether `distance` is within `score_threshold` (up to float rounding)."""
    return distance <= score_threshold + HIT_TOLERANCE


def check_ttl(ttl_seconds: float) -> None:
    """Refuse a TTL that is not a positive number of seconds."""
    if not ttl_seconds > 0:
        raise ValueError(f"ttl_seconds must be > 0, got {ttl_seconds!r}")


def check_threshold(score_threshold: float) -> None:
    """Refuse a score threshold outside APIM's 0.0-1.0 range."""
    if not 0.0 <= score_threshold <= 1.0:
        raise ValueError(f"score_threshold must be within 0.0-1.0, got {score_threshold!r}")
