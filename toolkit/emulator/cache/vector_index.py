"""A growable matrix of unit vectors with expiry times and one payload per row, searched by cosine distance.

Shared by the memory store (payload: the CacheEntry) and the Redis store's local mirror (payload: the
Redis ids). Not thread-safe: the owning store holds a lock.

Search cost. Up to ``ann_threshold`` rows a search is one exact pass (`_scores`: ~25 µs warm at 768 x 384).
Past it, rows are also kept in an HNSW graph (usearch) and a search asks the graph for the nearest
``CANDIDATES`` rows, then re-ranks the ``RERANKED`` nearest alive ones exactly against the matrix, so the
distance reported (and compared with ``score-threshold``) is always the exact cosine distance of the row
returned. The graph
is filled incrementally, and rows not yet in it (a suffix of the matrix) are searched exactly, so no add ever
stalls on a bulk build. The owner's upkeep (`index_pending`, which the memory store runs while a request waits
for its embeddings call) puts new rows in the graph; an add does it itself, its own row and one more, only when
more than ``pending_rows`` rows are left out. A mirror loaded in bulk (the Redis store's) is put in the graph
at its first search. An exact repeat of a stored prompt (the same embedding, bit for bit) is always found
through a digest of the vector.
The graph is approximate: the one thing it can do wrong is miss the true nearest row of a query that is
not an exact repeat (measured in benchmarks/semantic_cache_lookup.py); it never reports a wrong distance.

Expiry. Rows expire by time (their ``expires_at``) or are discarded (the Redis key vanished). A heap of
expiry times keeps the count of dead rows without scanning; dead rows are skipped by searches and dropped
(``compact_if_sparse``) once they are half of the rows, which also removes them from the graph.
"""

from __future__ import annotations

import heapq
import math
from typing import Any, Generic, NamedTuple, TypeVar

import numpy as np
import simsimd

T = TypeVar("T")

_MIN_CAPACITY = 16
# Rows from which a partition also keeps a graph. Below, one exact pass is cheaper; above, it reads every row
# (1.5 KB each at 384 dimensions), and past ~1,300 rows (2 MB, this machine's L2 per core) a pass also evicts the
# rest of the request's working set. Timed alone on cold caches (benchmarks/semantic_cache_lookup.py --skip-gateway)
# the crossover is ~1,300 rows (1,000: exact 89, graph 111 µs; 2,000: 143 against 94); through the gateway
# (toolkit.yaml's whole policy, cache misses at concurrency 1, p50 in windows of 600 requests, three runs
# alternated) 768 against 2,048 took 1,152-1,184 against 1,207-1,236 µs at 1,200-1,800 entries and 1,162-1,189
# against 1,275-1,317 at 1,800-2,400, and no better below 1,200 entries, while the graph catches up (800-1,200:
# 1,269-1,422 against 1,266-1,317). Medians of five windows from 200 to 2,200 entries: 1,213-1,228 against
# 1,199-1,249 (a third run of 768, disturbed by the machine, was 1,533-1,634 in every window).
# Tried and not kept (2026-12-04): an exact search that screens the rows by int8 codes first (per-row scale, a
# Cauchy-Schwarz bound on the rounding, float32 scores only for rows within twice that bound of the best: the same
# answer as a float32 pass) and the graph from 4,096 rows. Cold, on random vectors, it beat the graph at 2,000-4,000
# rows (48 against 55-90 µs at 2,000); on benchmarks/semantic_cache_lookup.py's MiniLM clusters the graph was as fast
# at 2,000 (43 against 46 µs cold) and faster at 4,000 (43 against 66); through the gateway (cache misses at
# concurrency 1, 1,000-2,500 entries) the critical path was ~12 µs shorter, and the store ~10 µs dearer.
ANN_THRESHOLD = 768
CANDIDATES = 32  # graph neighbours asked for per search
# Of those, the nearest alive ones by the graph's int8 distance that are re-ranked exactly (and an exact repeat).
# int8 scores of unit vectors are off by ~0.001, so the true best of the 32 is among the first 8 unless 8 others
# score within that of it: re-ranking 8 rather than 32 kept the memory store's exact nearest row on 234 of 240
# queries at 10,000 entries and 151 at 100,000, and every hit decision (benchmarks/semantic_cache_lookup.py
# --skip-gateway), and timed inside the gateway's process (benchmarks/policy_cpu.py --warmup 9000, the two
# alternating search by search) a search took 235 instead of 277 µs (283 / 331 in a busier minute): fewer rows
# read from a matrix whose memory is cold, and keys mapped to rows by the dict, not a binary search of the key
# column.
RERANKED = 8
_CATCH_UP = 1  # rows not yet in the graph inserted per add, besides the new row
# Rows an add may leave out of the graph for `index_pending` (the store's upkeep, run while a request waits on the
# network): an add past the threshold puts rows in the graph itself only when more than this many are left out.
PENDING_ROWS = 64
# Candidates examined per graph insertion: the cost of every store past ann_threshold (two insertions per add until
# the graph has caught up) against the graph's quality. One insertion at 6,000 rows costs 202 µs of CPU at 64, 110
# at 32, 52 at 16 (2 cores). benchmarks/semantic_cache_lookup.py at 100,000 entries (dense clusters of
# near-duplicates, the hard case) keeps the memory store's hit decision on 237 / 236 / 234 of 240 queries (exact
# nearest row: 174 / 149 / 145); on 32,000 MiniLM embeddings of distinct questions the exact nearest row of 100 new
# questions and 100 near-repeats was among the 32 candidates at every setting. 32: half the cost, one decision.
GRAPH_EXPANSION_ADD = 32
# Candidates examined per search (at least CANDIDATES). With the int8 graph at 100,000 entries: 128 -> 64 cut the
# memory store's lookup p50 from 0.109 to 0.075 ms, its hit decision held on 238 of 240 queries at both, the Redis
# mirror's on 240 / 239 (benchmarks/semantic_cache_lookup.py --sizes 100000 --skip-gateway). 64 -> 32: the hit
# decision held on 240/240 (10,000 entries) and 238/240 (100,000), the exact nearest row on 234 instead of 239 of
# 240 at 10,000 (151 / 153 at 100,000). Timed inside the gateway's process (benchmarks/policy_cpu.py --warmup 10000,
# the two settings alternating search by search), where a search's memory is cold because the request's other work
# evicts it: p50 291 instead of 424 µs at 10,000 rows (356 / 518 in a busier minute).
GRAPH_EXPANSION_SEARCH = 32
# Threads for putting rows loaded in bulk into the graph at once (0: every core). A graph built on several threads
# depends on their timing, so its approximate answers may differ from run to run.
BULK_BUILD_THREADS = 0


def unit_vector(vector: np.ndarray) -> np.ndarray:
    """`vector` scaled to length 1 as contiguous float32 (ValueError: zero, non-finite, not 1-D)."""
    v = np.asarray(vector, dtype=np.float64)
    if v.ndim != 1:
        raise ValueError(f"expected a 1-D vector, got shape {v.shape}")
    # The norm in float64: in float32 the squares of large (>1e19) or tiny (<1e-19) finite components
    # overflow or vanish, and a usable vector would be refused as non-finite or zero. sqrt(v . v) is what
    # np.linalg.norm computes for a 1-D vector (bit for bit), without its dispatch cost.
    norm = math.sqrt(v.dot(v))
    if not norm or not math.isfinite(norm):
        raise ValueError("cannot use a zero or non-finite vector")
    return (v / norm).astype(np.float32)  # a new array: contiguous


class UnitQuery:
    """A lookup's query as it was searched: the caller's vector object and its `unit_vector`, computed here.

    A store handed one back with the same vector object (by identity) stores that unit vector instead of
    normalising the vector a second time; any other vector is normalised as usual, so a query that does not
    belong to the vector stored can never put a wrong row in the index. The vector must not be changed in
    place between the lookup and the store (the semantic cache policies never do).
    """

    __slots__ = ("_source", "_unit")

    def __init__(self, vector: Any) -> None:
        unit = unit_vector(vector)
        unit.flags.writeable = False  # shared by the lookup and the store: nobody may change it
        self._source = vector
        self._unit = unit

    @property
    def unit(self) -> np.ndarray:
        """The query's unit float32 vector (read-only)."""
        return self._unit


def unit_of(vector: Any, query: UnitQuery | None) -> np.ndarray:
    """`unit_vector(vector)`, reusing a lookup's `query` when it was computed from this very vector object."""
    # type(...) is: exactly ours, so a look-alike object (or a subclass) is ignored, never trusted
    if type(query) is UnitQuery and vector is query._source:
        return query._unit
    return unit_vector(vector)


class Match(NamedTuple, Generic[T]):
    """The nearest alive row: its index (valid until the next mutation), distance and payload."""

    row: int
    distance: float
    item: T


def _scores(rows: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Each row's dot product with ``query`` (cosine scores: both are unit vectors), as float64.

    SimSIMD's dot kernel, not BLAS (`@`): a BLAS matvec spawns threads that contend with the emulator's server and
    load generator on a 2-core machine (measured p50 8-12 ms vs ~1.3 ms at 10k x 384), and, even on one thread,
    its rounding depends on a row's position, so two identical rows could score differently and a tie would no
    longer go to the oldest row. SimSIMD computes every row alike on one thread, like numpy's einsum, which this
    replaced: at 1,000 x 384, 32 µs where einsum took 49 (BLAS: 24). Counted by callgrind, the gateway's whole
    policy (toolkit.yaml, every request a cache miss) ran 1.61 M instead of 1.75 M instructions per request with
    700 to 900 rows in the partition, 1.43 M instead of 1.48 M with 100 to 300.
    """
    return np.asarray(simsimd.cdist(query[None, :], rows, metric="dot"))[0]


def _distance(score: float) -> float:
    return min(max(1.0 - score, 0.0), 2.0)


class VectorIndex(Generic[T]):
    """Rows of (unit vector, expires_at, payload) searched by cosine distance."""

    def __init__(self, ann_threshold: int = ANN_THRESHOLD, pending_rows: int = PENDING_ROWS) -> None:
        self._vectors: np.ndarray | None = None
        self._expires = np.empty(0, dtype=np.float64)
        self._keys = np.empty(0, dtype=np.int64)  # row -> stable key (the graph's label)
        self._items: list[T | None] = []
        self._size = 0
        self._next_key = 0
        self._ann_threshold = ann_threshold
        self._pending_rows = pending_rows
        self._graph: Any = None  # usearch Index once the rows reached ann_threshold
        self._row_of: dict[int, int] = {}  # key -> row, for graph results
        self._in_graph = 0  # rows [0, _in_graph) are in the graph; the rest are searched exactly
        self._expiry_heap: list[tuple[float, int]] = []
        self._dead: set[int] = set()  # keys counted dead (expired or discarded), until compaction
        self._settled_at = -math.inf
        self._by_digest: dict[int, int] = {}  # hash of a vector's bytes -> key of the newest row holding it

    @property
    def dimension(self) -> int | None:
        """Vector length, fixed by the first row added (None while empty and never used)."""
        return None if self._vectors is None else self._vectors.shape[1]

    def __len__(self) -> int:
        return self._size

    def add(self, vector: np.ndarray, expires_at: float, item: T, *, bulk: bool = False) -> None:
        """Append one row; `vector` must already be a unit float32 vector.

        ``bulk``: part of a batch being loaded (a mirror catching up): leave the graph work to the next
        search, which indexes the batch at once on every core instead of row by row.
        """
        if self._vectors is None:
            self._vectors = np.empty((_MIN_CAPACITY, vector.shape[0]), dtype=np.float32)
            self._expires = np.empty(_MIN_CAPACITY, dtype=np.float64)
            self._keys = np.empty(_MIN_CAPACITY, dtype=np.int64)
        self._check_dimension(vector, "vector")
        if self._size == self._vectors.shape[0]:
            self._grow()
        key = self._next_key
        self._next_key += 1
        self._vectors[self._size] = vector
        self._expires[self._size] = expires_at
        self._keys[self._size] = key
        self._row_of[key] = self._size
        self._by_digest[hash(vector.tobytes())] = key
        self._items.append(item)
        self._size += 1
        heapq.heappush(self._expiry_heap, (expires_at, key))
        if self._size >= self._ann_threshold and not bulk and self._size - self._in_graph > self._pending_rows:
            self._extend_graph(1 + _CATCH_UP)

    def index_pending(self, limit: int) -> int:
        """Put up to ``limit`` of the rows not yet in the graph in it, oldest first (none while the index is below
        its threshold); returns how many. Rows out of the graph are found all the same (searched exactly): this is
        upkeep, which keeps that exact part small without making the adds pay for it."""
        if self._size < self._ann_threshold:
            return 0
        count = min(limit, self._size - self._in_graph)
        self._extend_graph(count)
        return count

    def nearest(self, query: np.ndarray, now: float) -> tuple[Match[T] | None, int]:
        """The nearest row alive at `now` (or None) and how many rows were alive."""
        if self._vectors is None or self._size == 0:
            return None, 0
        self._check_dimension(query, "query")
        considered = self.alive_count(now)
        if not considered:
            return None, 0
        if self._size - self._in_graph > self._ann_threshold:  # rows added in bulk: index them at once
            self._extend_graph(self._size - self._in_graph, threads=BULK_BUILD_THREADS)
        if not self._in_graph:  # a small partition: one exact pass, with no expiry mask when every row is alive
            best = self._nearest_exact(query, now, 0, self._size, considered == self._size)
        else:
            best = self._nearest_in_graph(query, now)
            tail = self._nearest_exact(query, now, self._in_graph, self._size)
            if best is None or (tail is not None and tail[1] > best[1]):
                best = tail
            if best is None:  # every graph candidate was dead: search the graph's rows exactly
                best = self._nearest_exact(query, now, 0, self._in_graph)
        if best is None:
            return None, considered
        row, score = best
        return Match(row, _distance(score), self._items[row]), considered  # type: ignore[arg-type]

    def bounded(self, now: float, exact_rows: int) -> bool:
        """Whether the next search, and the next add, cost at most a graph search plus exact work on ``exact_rows``
        rows: the index holds no more rows than that, or its graph holds all but at most that many, and neither a
        compaction (`compact_if_sparse`) nor a growth of the matrix (a copy of every row) is due."""
        if self._vectors is None or self._size <= exact_rows:
            return True
        if self._graph is None or self._size - self._in_graph > exact_rows or self._size >= self._vectors.shape[0]:
            return False
        return not self._compaction_due(now)

    def discard(self, row: int) -> None:
        """Mark a row dead (e.g. its Redis key is gone); it is never matched again."""
        self._expires[row] = -math.inf
        self._dead.add(int(self._keys[row]))

    def alive_count(self, now: float) -> int:
        """Rows alive at `now`."""
        if now < self._settled_at:  # time went backwards (a test's clock): count exactly
            return int(np.count_nonzero(self._expires[: self._size] > now))
        self._settle(now)
        return self._size - len(self._dead)

    def compact_if_sparse(self, now: float) -> list[T]:
        """Compact when at least half the rows (and at least 16) are no longer alive."""
        return self.compact(now) if self._compaction_due(now) else []

    def _compaction_due(self, now: float) -> bool:
        dead = self._size - self.alive_count(now)
        return dead >= _MIN_CAPACITY and 2 * dead >= self._size

    def compact(self, now: float) -> list[T]:
        """Drop rows not alive at `now`; returns their payloads."""
        if self._vectors is None:
            return []
        keep = self._expires[: self._size] > now
        dropped = [item for item, k in zip(self._items, keep, strict=True) if not k]
        dropped_keys = self._keys[: self._size][~keep]
        if self._graph is not None:
            in_graph = dropped_keys[np.flatnonzero(~keep) < self._in_graph]
            if len(in_graph):
                self._graph.remove(in_graph)
            self._in_graph = int(np.count_nonzero(keep[: self._in_graph]))
        n = int(np.count_nonzero(keep))
        self._vectors[:n] = self._vectors[: self._size][keep]
        self._expires[:n] = self._expires[: self._size][keep]
        self._keys[:n] = self._keys[: self._size][keep]
        self._items = [item for item, k in zip(self._items, keep, strict=True) if k]
        self._size = n
        self._row_of = {int(key): row for row, key in enumerate(self._keys[:n])}
        self._by_digest = {digest: key for digest, key in self._by_digest.items() if key in self._row_of}
        self._dead.clear()
        self._expiry_heap = [(float(e), int(k)) for e, k in zip(self._expires[:n], self._keys[:n], strict=True)]
        heapq.heapify(self._expiry_heap)
        self._settled_at = -math.inf
        return dropped  # type: ignore[return-value]

    # -- internals ----------------------------------------------------------------------------

    def _settle(self, now: float) -> None:
        """Count the rows whose expiry passed since the last call (amortised O(log n) per row)."""
        heap = self._expiry_heap
        while heap and heap[0][0] <= now:
            _, key = heapq.heappop(heap)
            if key in self._row_of:
                self._dead.add(key)
        self._settled_at = now

    def _nearest_exact(self, query: np.ndarray, now: float, start: int, stop: int,
                       all_alive: bool = False) -> tuple[int, float] | None:
        """(row, score) of the best alive row in [start, stop), exactly; `all_alive`: no row there is expired."""
        if stop <= start:
            return None
        assert self._vectors is not None
        scores = _scores(self._vectors[start:stop], query)
        if not all_alive:
            scores[self._expires[start:stop] <= now] = -np.inf
        offset = int(scores.argmax())
        if scores[offset] == -np.inf:
            return None
        return start + offset, float(scores[offset])

    def _nearest_in_graph(self, query: np.ndarray, now: float) -> tuple[int, float] | None:
        """(row, exact score) of the best alive row among the graph's nearest candidates."""
        assert self._vectors is not None
        row_of, expires = self._row_of, self._expires
        rows: list[int] = []
        for key in self._graph_keys(query, min(CANDIDATES, self._in_graph)):
            row = row_of.get(key)
            if row is not None and expires[row] > now:
                rows.append(row)
                if len(rows) == RERANKED:
                    break
        repeat = row_of.get(self._by_digest.get(hash(query.tobytes()), -1))
        if repeat is not None and expires[repeat] > now and repeat not in rows:
            rows.append(repeat)
        if not rows:
            return None
        scores = _scores(self._vectors[rows], query)
        best = int(np.argmax(scores))
        return int(rows[best]), float(scores[best])

    def _graph_keys(self, query: np.ndarray, count: int) -> list[int]:
        """Keys of the graph's ``count`` nearest rows to ``query``, nearest first (by its int8 distance)."""
        # The compiled search that Index.search wraps (usearch is pinned): the wrapper's checks and result objects
        # cost ~5 µs warm and ~18 cold per search (1,500 rows: 35 against 31 µs warm, 101 against 83 cold).
        # One query: no thread pool (~10% less).
        keys, _, counts, *_ = self._graph._compiled.search_many(query[None, :], count=count, exact=False, threads=1,
                                                                progress=None)
        return keys[0, : counts[0]].tolist()  # type: ignore[no-any-return]

    def _extend_graph(self, count: int, threads: int = 1) -> None:
        """Insert up to `count` of the rows not yet in the graph (oldest first); threads=0: all cores."""
        assert self._vectors is not None
        if self._graph is None:
            from usearch.index import Index

            # The graph holds the vectors quantised to int8 (x127; they are unit vectors): a quarter of float32's
            # memory and about half its search time (9,000 MiniLM rows: 120 vs 258 µs warm, 415 vs 622 cold). Only
            # the choice of candidates is approximate, their scores are exact float32 (re-ranked against the
            # matrix): at 100,000 entries (benchmarks/semantic_cache_lookup.py) the hit decision held on 238 of
            # 240 queries (memory store) and 240 (Redis mirror), against 236 and 239 with float32.
            self._graph = Index(ndim=self._vectors.shape[1], metric="ip", dtype="i8", connectivity=16,
                                expansion_add=GRAPH_EXPANSION_ADD, expansion_search=GRAPH_EXPANSION_SEARCH)
        stop = min(self._size, self._in_graph + count)
        if stop > self._in_graph:
            self._graph.add(self._keys[self._in_graph:stop], self._vectors[self._in_graph:stop], threads=threads)
            self._in_graph = stop

    def _check_dimension(self, vector: np.ndarray, what: str) -> None:
        assert self._vectors is not None
        if vector.shape[0] != self._vectors.shape[1]:
            raise ValueError(f"{what} has {vector.shape[0]} dimensions, "
                             f"this partition holds {self._vectors.shape[1]}")

    def _grow(self) -> None:
        assert self._vectors is not None
        capacity = self._vectors.shape[0] * 2
        vectors = np.empty((capacity, self._vectors.shape[1]), dtype=np.float32)
        vectors[: self._size] = self._vectors[: self._size]
        expires = np.empty(capacity, dtype=np.float64)
        expires[: self._size] = self._expires[: self._size]
        keys = np.empty(capacity, dtype=np.int64)
        keys[: self._size] = self._keys[: self._size]
        self._vectors, self._expires, self._keys = vectors, expires, keys
