"""Where the semantic cache policies run a store's lookups and stores: on the event loop while that is cheap and
bounded, in a worker thread otherwise.

Every cache miss makes two store calls (the lookup, then the store). A hop to a worker thread costs the gateway a
thread wake-up, a future and a loop wake-up per call (about 0.1 ms of its CPU per miss, measured with
benchmarks/gateway_overhead.py --policy full), while a call on a small in-memory partition costs less than the hop:
an exact lookup is 11 µs at 100 rows and 39 µs at 1,000 rows; a store, a few µs (and one copy of the rows when the
partition's matrix grows or is compacted). The bound was 1,024 rows, which the benchmark's cache passes after ~500
answers; at 4,096 (measured on a busy 2-core machine, the full policy of toolkit.yaml, cache misses at concurrency 1,
800 to 2,000 entries, blocks of 100 requests alternated with the two bounds): the gateway process's CPU fell from
1,008 to 817 µs per request and the p50 latency from 6.38 to 6.21 ms. An inline lookup of 2,000 rows (384 dimensions)
takes 71 µs, of 4,000 rows 140 µs, against 141 and 249 µs of wall time through `asyncio.to_thread`: up to 4,096
rows the loop stalls for less than the hop would delay the request itself.

So a call runs inline only when all of these hold, and in a worker thread otherwise:
- the store is the in-process memory store (a Redis store waits on the network);
- the store says the call is bounded (`MemoryCacheStore.bounded_call`): the partition holds at most
  ``INLINE_ROWS`` rows, or its HNSW graph holds all but at most that many (so a call costs a graph search,
  0.1-0.4 ms at 100k entries, plus an exact pass over the rest) and neither a compaction nor a growth of its
  matrix (a copy of every row) is due. Those, and a partition without a graph past ``INLINE_ROWS``, go to a thread;
- no call of that store is running in a thread: the store has one lock, and an inline call must never wait on a
  thread's long compaction or copy.
Large partitions used to go to a thread for every call. Measured with benchmarks/gateway_overhead.py --policy full
(every request a miss, the cache growing to ~9,000 entries): with 32 requests in flight, 6 worker threads and the
event loop fought for the GIL and the store's lock (py-spy: 60% of the gateway's samples in worker threads, most
of them waiting), and the gateway spent 0.9-1.2 ms of CPU per request; with bounded calls inline, ~0.5 ms.

Upkeep while waiting. Past its threshold a partition also keeps an HNSW graph, and putting a row in it costs
~50-100 µs of CPU. An add leaves that to the partition's upkeep (`upkeep_while_waiting`), which the lookup policy
schedules as it sends its embeddings call: the gateway does it while the request waits on the network, where it
used to do it after the answer, often still busy when the next request came in (benchmarks/gateway_phases.py
--warmup 10000: the work after the answer fell from ~290 to ~120 µs per request). A store, which runs in such a wait
too (below), is followed by the same upkeep: its row is in the graph before the next lookup, which otherwise found
it still outside and searched it exactly, ~9 µs on the lookup's path at 1,000-2,000 rows.

Stores after the answer. The store policy stores once the answer has gone to the client (APIM documents its cache
stores as asynchronous: a stored value "may not be immediately available"), when the gateway next waits on a backend
(gateway/after_answer.py: at concurrency 1 the next request came while the store ran). The emulator keeps the stronger
promise it always kept: the policy ``reserve``s the store before the answer leaves, and a lookup of that partition
waits for every reserved store (`settled`), so a client that asks again after its answer always finds it.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from toolkit.emulator.cache.base import CacheEntry, LookupResult

T = TypeVar("T")
UPKEEP_ROWS = 4  # rows a partition's upkeep puts in its graph at most (each ~50-100 µs of CPU)
INLINE_ROWS = 4096  # rows searched exactly up to which a call runs on the event loop (see the module docstring)
SETTLE_TIMEOUT = 5.0  # seconds a lookup waits at most for its partition's reserved stores


class _StoreCalls:
    """One memory store's calls running in worker threads."""

    __slots__ = ("in_threads", "__weakref__")

    def __init__(self) -> None:
        self.in_threads = 0

    async def run(self, store: Any, partition: str, now: float, call: Callable[..., T], *args: Any) -> T:
        if not self.in_threads and store.bounded_call(partition, now, INLINE_ROWS):
            return call(*args)
        self.in_threads += 1
        try:
            return await asyncio.to_thread(call, *args)
        finally:
            self.in_threads -= 1


_calls: weakref.WeakKeyDictionary[Any, _StoreCalls] = weakref.WeakKeyDictionary()
# store -> partition -> stores reserved for after an answer, not finished yet
_reserved: weakref.WeakKeyDictionary[Any, dict[str, list[asyncio.Future[None]]]] = weakref.WeakKeyDictionary()


def reserve(store: Any, partition: str) -> asyncio.Future[None]:
    """A store of ``partition`` that will run after this request's answer: lookups of the partition wait until the
    future is done (the caller must finish it, whatever happens to the store)."""
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    by_partition = _reserved.setdefault(store, {})
    by_partition.setdefault(partition, []).append(done)
    done.add_done_callback(lambda _: _release(by_partition, partition, done))
    return done


def _release(by_partition: dict[str, list[asyncio.Future[None]]], partition: str, done: asyncio.Future[None]) -> None:
    waiting = by_partition.get(partition)
    if waiting is not None:
        waiting.remove(done)
        if not waiting:
            del by_partition[partition]


async def settled(store: Any, partition: str, timeout: float = SETTLE_TIMEOUT) -> None:
    """Return once every store reserved for ``partition`` (when this is called) has finished, or after
    ``timeout`` seconds (a store that hangs delays lookups by that much, never blocks them)."""
    by_partition = _reserved.get(store)
    waiting = by_partition.get(partition) if by_partition else None
    if waiting:
        await asyncio.wait(list(waiting), timeout=timeout)


def _calls_of(store: Any) -> _StoreCalls | None:
    """The bookkeeping of a memory store; None for any other store (always in a thread)."""
    from toolkit.emulator.cache.memory import MemoryCacheStore  # here: importing the policies must not load numpy

    if not isinstance(store, MemoryCacheStore):
        return None
    calls = _calls.get(store)
    if calls is None:
        calls = _calls[store] = _StoreCalls()
    return calls


def upkeep_while_waiting(store: Any, partition: str) -> None:
    """Schedule the partition's upkeep (putting rows stored since into its graph) for the loop's next turn.

    Called just before a request makes a call it must wait for (the semantic cache's embeddings call): the call is
    sent before the loop's next turn, so the upkeep runs while the request waits on the network, not on its path.
    Memory stores only (a Redis store's mirror keeps its own graph); skipped while a call of the store runs in a
    thread, whose lock it would wait for."""
    calls = _calls_of(store)
    if calls is not None:
        asyncio.get_running_loop().call_soon(_upkeep, store, calls, partition)


def _upkeep(store: Any, calls: _StoreCalls, partition: str) -> None:
    if not calls.in_threads:
        store.upkeep(partition, UPKEEP_ROWS)


async def lookup(store: Any, partition: str, vector: Any, score_threshold: float, now: float) -> LookupResult:
    """``store.lookup(...)``, inline or in a worker thread, once the partition's reserved stores are done (see the
    module docstring)."""
    if store in _reserved:
        await settled(store, partition)
    calls = _calls_of(store)
    if calls is None:
        return await asyncio.to_thread(store.lookup, partition, vector, score_threshold, now)
    return await calls.run(store, partition, now, store.lookup, partition, vector, score_threshold, now)


async def store(store: Any, partition: str, vector: Any, prompt: str, body: bytes, headers: dict[str, str],
                status: int, ttl_seconds: float, now: float, query: Any = None) -> CacheEntry:
    """``store.store(...)``, inline or in a worker thread (see the module docstring), then the partition's upkeep;
    ``query``: the lookup's ``LookupResult.query`` of the same vector, passed on only when there is one (so the
    store need not normalise the vector again)."""
    args = (partition, vector, prompt, body, headers, status, ttl_seconds, now) + (() if query is None else (query,))
    calls = _calls_of(store)
    if calls is None:
        return await asyncio.to_thread(store.store, *args)
    entry = await calls.run(store, partition, now, store.store, *args)
    _upkeep(store, calls, partition)  # in the wait the store runs in (see "Upkeep while waiting")
    return entry
