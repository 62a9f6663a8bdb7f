"""cache_calls: store calls run on the event loop only for small, known partitions of the memory store."""

from __future__ import annotations

import asyncio
import threading

import numpy as np

from toolkit.emulator.cache.memory import MemoryCacheStore
from toolkit.emulator.cache.vector_index import ANN_THRESHOLD
from toolkit.emulator.policy import cache_calls

LOOP = "loop"
THREAD = "thread"


class RecordingStore(MemoryCacheStore):
    """A memory store that records where each call ran (the loop's thread or another)."""

    def __init__(self) -> None:
        super().__init__()
        self.loop_thread = threading.get_ident()
        self.ran: list[str] = []
        self.gate: threading.Event | None = None  # set: lookups wait for it (a long search in a thread)

    def _record(self) -> None:
        self.ran.append(LOOP if threading.get_ident() == self.loop_thread else THREAD)

    def lookup(self, *args):  # type: ignore[no-untyped-def]
        self._record()
        if self.gate is not None:
            assert self.gate.wait(10)
        return super().lookup(*args)

    def store(self, *args):  # type: ignore[no-untyped-def]
        self._record()
        return super().store(*args)


def vector(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(8).astype(np.float32)


def fill(store: MemoryCacheStore, partition: str, rows: int) -> None:
    """Rows written straight to the store (not through cache_calls)."""
    for index in range(rows):
        store.store(partition, vector(index), f"p{index}", b"{}", {}, 200, 600.0, 0.0)


def lookup(store: MemoryCacheStore, partition: str = "p") -> None:
    asyncio.run(cache_calls.lookup(store, partition, vector(99), 0.0, 1.0))


def put(store: MemoryCacheStore, partition: str = "p") -> None:
    asyncio.run(cache_calls.store(store, partition, vector(98), "q", b"{}", {}, 200, 600.0, 1.0))


def fill_expiring(store: MemoryCacheStore, partition: str, rows: int) -> None:
    """Rows dead by the helpers' time (1.0): the next call would compact the partition."""
    for index in range(rows):
        store.store(partition, vector(index), f"p{index}", b"{}", {}, 200, 0.5, 0.0)


def test_calls_on_new_and_small_partitions_run_inline() -> None:
    store = RecordingStore()
    lookup(store)
    put(store)
    lookup(store)
    assert store.ran == [LOOP] * 3
    fill(store, "p", cache_calls.INLINE_ROWS - 1)
    store.ran.clear()
    lookup(store)  # INLINE_ROWS rows: still searched exactly on the loop
    assert store.ran == [LOOP]


def test_a_large_partition_covered_by_its_graph_runs_inline_until_its_matrix_must_grow() -> None:
    store = RecordingStore()
    fill(store, "p", 8191)  # the matrix holds 8,192 rows; the graph (from ANN_THRESHOLD rows) holds them all by now
    store.ran.clear()
    lookup(store)
    assert store.ran == [LOOP]
    fill(store, "p", 1)  # full: the next add copies every row
    store.ran.clear()
    lookup(store)
    put(store)  # grows the matrix, in a thread
    lookup(store)
    assert store.ran == [THREAD, THREAD, LOOP]


def test_a_large_partition_due_for_compaction_goes_to_a_thread() -> None:
    store = RecordingStore()
    fill_expiring(store, "p", cache_calls.INLINE_ROWS + 1)
    store.ran.clear()
    lookup(store)  # every row is dead by now: this lookup compacts, in a thread
    lookup(store)
    assert store.ran == [THREAD, LOOP]


def test_a_large_partition_elsewhere_does_not_keep_a_small_one_off_the_loop_when_idle() -> None:
    store = RecordingStore()
    fill_expiring(store, "big", cache_calls.INLINE_ROWS + 1)
    store.ran.clear()
    lookup(store, "small")
    lookup(store, "big")
    lookup(store, "small")
    assert store.ran == [LOOP, THREAD, LOOP]


def test_while_a_call_runs_in_a_thread_every_call_of_that_store_goes_to_a_thread() -> None:
    store = RecordingStore()
    fill_expiring(store, "big", cache_calls.INLINE_ROWS + 1)
    store.ran.clear()

    async def scenario() -> None:
        store.gate = threading.Event()
        big = asyncio.create_task(cache_calls.lookup(store, "big", vector(1), 0.0, 1.0))  # in a thread, held
        while not store.ran:
            await asyncio.sleep(0.001)
        small = asyncio.create_task(cache_calls.lookup(store, "small", vector(2), 0.0, 1.0))
        await asyncio.sleep(0.05)
        store.gate.set()
        await asyncio.gather(big, small)

    asyncio.run(scenario())
    assert store.ran == [THREAD, THREAD]


class OtherStore:
    """Any store that is not the memory store (e.g. Redis): its calls wait on I/O."""

    def __init__(self) -> None:
        self.memory = RecordingStore()

    def lookup(self, *args):  # type: ignore[no-untyped-def]
        return self.memory.lookup(*args)

    def store(self, *args):  # type: ignore[no-untyped-def]
        return self.memory.store(*args)


def test_other_stores_are_always_called_in_a_thread() -> None:
    other = OtherStore()
    results = []
    for _ in range(2):
        results.append(asyncio.run(cache_calls.lookup(other, "p", vector(1), 0.0, 1.0)))
        asyncio.run(cache_calls.store(other, "p", vector(1), "q", b"{}", {}, 200, 600.0, 1.0))
    assert other.memory.ran == [THREAD] * 4
    assert not results[0].hit and results[1].hit  # the second lookup found the store, in the same partition


def test_results_are_the_stores_answers() -> None:
    store = MemoryCacheStore()
    asyncio.run(cache_calls.lookup(store, "p", vector(1), 0.0, 1.0))
    entry = asyncio.run(cache_calls.store(store, "p", vector(1), "q", b"answer", {"a": "b"}, 200, 600.0, 1.0))
    result = asyncio.run(cache_calls.lookup(store, "p", vector(1), 0.0, 2.0))
    assert result.hit and result.entry == entry and result.entry.body == b"answer"


def test_a_lookups_query_is_handed_to_the_store_only_when_there_is_one() -> None:
    class ArgsStore(RecordingStore):
        def store(self, *args):  # type: ignore[no-untyped-def]
            self.args = args
            return super().store(*args)

    store = ArgsStore()
    v = vector(5)
    miss = asyncio.run(cache_calls.lookup(store, "p", v, 0.0, 1.0))
    assert miss.query is not None
    asyncio.run(cache_calls.store(store, "p", v, "q", b"{}", {}, 200, 600.0, 1.0, miss.query))
    assert store.args[-1] is miss.query and len(store.args) == 9
    asyncio.run(cache_calls.store(store, "p", v, "q", b"{}", {}, 200, 600.0, 1.0))
    assert len(store.args) == 8  # stores without the argument keep working


def test_a_lookup_waits_for_the_stores_reserved_for_its_partition_only() -> None:
    store = RecordingStore()
    fill(store, "p", 1)
    fill(store, "q", 1)

    async def scenario() -> None:
        reserved = cache_calls.reserve(store, "p")
        waiting = asyncio.ensure_future(cache_calls.lookup(store, "p", vector(98), 0.0, 1.0))
        other = await cache_calls.lookup(store, "q", vector(98), 0.0, 1.0)  # another partition: no wait
        assert other.entries_considered == 1
        for _ in range(5):
            await asyncio.sleep(0)
        assert not waiting.done()
        await cache_calls.store(store, "p", vector(98), "q", b"{}", {}, 200, 600.0, 1.0)  # the reserved store
        reserved.set_result(None)
        result = await waiting
        assert result.hit and result.best_distance == 0.0  # the lookup saw the store it waited for
        assert not cache_calls._reserved[store]  # finished reservations are forgotten
        assert (await cache_calls.lookup(store, "p", vector(98), 0.0, 1.0)).hit  # nothing left to wait for

    asyncio.run(scenario())


def test_a_reservation_made_after_a_lookup_started_does_not_hold_it() -> None:
    store = RecordingStore()
    fill(store, "p", 1)

    async def scenario() -> None:
        first = cache_calls.reserve(store, "p")
        waiting = asyncio.ensure_future(cache_calls.lookup(store, "p", vector(98), 0.0, 1.0))
        await asyncio.sleep(0)
        later = cache_calls.reserve(store, "p")
        first.set_result(None)
        assert (await asyncio.wait_for(waiting, 5)).entries_considered == 1
        later.set_result(None)

    asyncio.run(scenario())


def test_a_reserved_store_that_never_finishes_delays_a_lookup_by_the_timeout_only() -> None:
    store = RecordingStore()
    fill(store, "p", 1)

    async def scenario() -> None:
        cache_calls.reserve(store, "p")  # never finished
        await asyncio.wait_for(cache_calls.settled(store, "p", timeout=0.05), 5)
        pending = asyncio.ensure_future(cache_calls.settled(store, "p", timeout=30))
        await asyncio.sleep(0.1)
        assert not pending.done()  # the default wait is longer than that
        pending.cancel()

    asyncio.run(scenario())


class UpkeepRecorder(MemoryCacheStore):
    """A memory store that records its upkeep calls."""

    def __init__(self) -> None:
        super().__init__()
        self.upkeeps: list[tuple[str, int]] = []

    def upkeep(self, partition: str, rows: int) -> int:
        self.upkeeps.append((partition, rows))
        return super().upkeep(partition, rows)


def test_upkeep_runs_at_the_loops_next_turn_once_the_caller_waits() -> None:
    store = UpkeepRecorder()

    async def scenario() -> None:
        cache_calls.upkeep_while_waiting(store, "p")
        assert store.upkeeps == []  # not on the caller's path: it is about to send its call
        await asyncio.sleep(0)  # the caller waits on the network
        assert store.upkeeps == [("p", cache_calls.UPKEEP_ROWS)]

    asyncio.run(scenario())


def test_no_upkeep_while_a_call_of_the_store_runs_in_a_thread_nor_for_other_stores() -> None:
    store = UpkeepRecorder()

    class Other(OtherStore):  # a Redis store: its mirror keeps its own graph
        upkeeps: list[str] = []

        def upkeep(self, partition: str, rows: int) -> int:
            self.upkeeps.append(partition)
            return 0

    other = Other()

    async def scenario() -> None:
        calls = cache_calls._calls_of(store)
        calls.in_threads = 1  # e.g. a compaction in a worker thread, holding the store's lock
        cache_calls.upkeep_while_waiting(store, "p")
        cache_calls.upkeep_while_waiting(other, "p")
        await asyncio.sleep(0)
        assert store.upkeeps == [] and other.upkeeps == []
        calls.in_threads = 0
        cache_calls.upkeep_while_waiting(store, "p")
        await asyncio.sleep(0)
        assert store.upkeeps == [("p", cache_calls.UPKEEP_ROWS)]

    asyncio.run(scenario())


def test_a_store_puts_its_row_in_the_graph_at_once() -> None:
    """A store runs after its answer, while the gateway waits on a backend: its upkeep follows it there, so the
    next lookup finds every row in the graph (none left to search exactly on its path)."""
    store = UpkeepRecorder()
    fill(store, "p", ANN_THRESHOLD + 8)
    store.upkeep("p", 10**6)  # the graph holds every row
    store.upkeeps.clear()
    put(store)
    assert store.upkeeps == [("p", cache_calls.UPKEEP_ROWS)]
    index = store._partitions["p"]
    assert index._in_graph == len(index) == ANN_THRESHOLD + 9


def test_a_store_in_a_thread_leaves_the_upkeep_to_the_next_wait() -> None:
    store = UpkeepRecorder()

    async def scenario() -> None:
        cache_calls._calls_of(store).in_threads = 1  # another call of the store holds its lock in a thread
        await cache_calls.store(store, "p", vector(98), "q", b"{}", {}, 200, 600.0, 1.0)
        assert store.upkeeps == []

    asyncio.run(scenario())


def test_a_store_into_a_large_partition_due_for_compaction_goes_to_a_thread() -> None:
    store = RecordingStore()
    fill_expiring(store, "p", cache_calls.INLINE_ROWS + 1)
    store.ran.clear()
    put(store)  # every row is dead at the store's time: the store compacts, in a thread
    assert store.ran == [THREAD]


def test_waiting_for_the_stores_of_a_store_never_reserved_returns_at_once() -> None:
    async def scenario() -> None:
        await asyncio.wait_for(cache_calls.settled(MemoryCacheStore(), "p"), 1)

    asyncio.run(scenario())
