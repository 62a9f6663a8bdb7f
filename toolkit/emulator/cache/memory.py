"""In-process semantic cache store: one vector matrix per partition, searched with numpy."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from toolkit.emulator.cache.base import CacheEntry, LookupResult, check_threshold, is_hit
from toolkit.emulator.cache.vector_index import UnitQuery, VectorIndex, unit_of

if TYPE_CHECKING:
    import numpy as np

# An entry as the index holds it: a tuple of strings, bytes and numbers (headers as pairs). The garbage
# collector stops tracking such tuples, so 100,000 entries add nothing to the full collections that pause
# every request; CacheEntry objects (and their header dicts) would all be traversed each time.
_Packed = tuple[str, str, str, bytes, tuple[tuple[str, str], ...], int, float, float]


def _pack(entry: CacheEntry) -> _Packed:
    return (entry.key, entry.partition, entry.prompt, entry.body, tuple(entry.headers.items()), entry.status,
            entry.stored_at, entry.expires_at)


def _unpack(packed: _Packed) -> CacheEntry:
    key, partition, prompt, body, headers, status, stored_at, expires_at = packed
    return CacheEntry(key, partition, prompt, body, dict(headers), status, stored_at, expires_at)


class MemoryCacheStore:
    """A SemanticCacheStore held in this process's memory (lost on exit, not shared)."""

    def __init__(self) -> None:
        self._partitions: dict[str, VectorIndex[_Packed]] = {}
        self._lock = threading.Lock()

    def lookup(
        self, partition: str, vector: np.ndarray, score_threshold: float, now: float
    ) -> LookupResult:
        """Best alive entry of `partition`; a hit when its distance <= score_threshold."""
        check_threshold(score_threshold)
        query = UnitQuery(vector)
        with self._lock:
            index = self._partitions.get(partition)
            if index is None:
                return LookupResult(False, None, None, 0, query)
            index.compact_if_sparse(now)
            match, considered = index.nearest(query.unit, now)
        if match is None:
            return LookupResult(False, None, None, considered, query)
        hit = is_hit(match.distance, score_threshold)
        return LookupResult(hit, match.distance, _unpack(match.item) if hit else None, considered, query)

    def upkeep(self, partition: str, rows: int) -> int:
        """Put up to ``rows`` of the partition's rows stored since into its graph (`VectorIndex.index_pending`);
        returns how many. Does nothing while another thread holds the store (upkeep never waits)."""
        if not self._lock.acquire(blocking=False):
            return 0
        try:
            index = self._partitions.get(partition)
            return index.index_pending(rows) if index is not None else 0
        finally:
            self._lock.release()

    def bounded_call(self, partition: str, now: float, exact_rows: int) -> bool:
        """Whether a lookup or a store of ``partition`` at ``now`` costs at most a graph search plus exact work on
        ``exact_rows`` rows (`VectorIndex.bounded`); an unknown partition is (nothing to search)."""
        with self._lock:
            index = self._partitions.get(partition)
            return index is None or index.bounded(now, exact_rows)

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
        """Store a response alive for ttl_seconds after `now`; `query`: the lookup's ``LookupResult.query``."""
        entry = CacheEntry.new(partition, prompt, body, headers, status, ttl_seconds, now)
        row = unit_of(vector, query)
        with self._lock:
            index = self._partitions.get(partition)
            if index is None:
                index = self._partitions[partition] = VectorIndex()
            index.compact_if_sparse(now)
            index.add(row, entry.expires_at, _pack(entry))
        return entry

    def clear(self) -> None:
        """Remove every entry."""
        with self._lock:
            self._partitions.clear()

    def count(self, now: float) -> int:
        """Entries alive at `now`, over all partitions."""
        with self._lock:
            return sum(index.alive_count(now) for index in self._partitions.values())

    def close(self) -> None:
        """Drop all entries (nothing else to release)."""
        self.clear()
