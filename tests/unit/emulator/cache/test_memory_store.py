"""MemoryCacheStore specifics: concurrency, and the vector index it is built on."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
from toolkit.testing.cache_vectors import QUERY, at_distance

from toolkit.emulator.cache.memory import MemoryCacheStore
from toolkit.emulator.cache.vector_index import ANN_THRESHOLD, VectorIndex, unit_vector

NOW = 1_000.0


def test_concurrent_stores_and_lookups_lose_nothing() -> None:
    store = MemoryCacheStore()
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(200):
                store.store(f"p{worker % 2}", at_distance(0.1, axis=1 + i % 100), "x", b"", {},
                            200, 60.0, NOW)
                store.lookup(f"p{worker % 2}", QUERY, 0.05, NOW)
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.count(NOW) == 800


def test_index_grows_past_its_first_capacity() -> None:
    index: VectorIndex[int] = VectorIndex()
    for i in range(100):
        index.add(unit_vector(at_distance(0.5, axis=1 + i)), NOW + 10, i)
    assert len(index) == 100 and index.dimension == 384
    index.add(unit_vector(at_distance(0.01, axis=200)), NOW + 10, 999)
    match, considered = index.nearest(QUERY, NOW)
    assert match.item == 999 and considered == 101


def test_index_compacts_only_when_half_is_dead() -> None:
    index: VectorIndex[int] = VectorIndex()
    for i in range(40):
        index.add(unit_vector(at_distance(0.5, axis=1 + i)), NOW + (10 if i < 19 else 100), i)
    assert index.compact_if_sparse(NOW + 20) == []  # 19 of 40 dead: not yet
    index.discard(39)
    dropped = index.compact_if_sparse(NOW + 20)
    assert sorted(dropped) == [*range(19), 39]
    assert len(index) == index.alive_count(NOW + 20) == 20
    match, _ = index.nearest(QUERY, NOW + 20)
    assert 19 <= match.item < 39


def test_discarded_row_is_never_matched() -> None:
    index: VectorIndex[str] = VectorIndex()
    index.add(unit_vector(at_distance(0.01, axis=1)), NOW + 10, "best")
    index.add(unit_vector(at_distance(0.2, axis=2)), NOW + 10, "other")
    match, _ = index.nearest(QUERY, NOW)
    index.discard(match.row)
    match, considered = index.nearest(QUERY, NOW)
    assert match.item == "other" and considered == 1


@pytest.mark.parametrize("bad", [np.zeros(4), np.ones((2, 2)), np.array([math.nan, 1.0])])
def test_unit_vector_refuses_unusable_input(bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        unit_vector(bad)


def test_unit_vector_normalises() -> None:
    v = unit_vector(np.array([3.0, 4.0]))
    assert v.dtype == np.float32 and v.tolist() == pytest.approx([0.6, 0.8])


def test_stored_entries_add_no_objects_for_the_garbage_collector_to_traverse() -> None:
    # 100,000 entries as objects the collector tracks would make every full collection (a pause of the whole
    # gateway) traverse all of them; entries are held as untracked tuples instead.
    import gc

    import usearch.index  # noqa: F401 - its import, once per process, creates objects that are not the entries'

    store = MemoryCacheStore()
    store.store("p", at_distance(0.5, axis=1), "warm", b"{}", {"a": "b"}, 200, 60.0, NOW)
    gc.collect()
    before = len(gc.get_objects())
    for i in range(1000):
        store.store("p", at_distance(0.5, axis=1 + i % 300), f"prompt {i}", b"{}", {"content-type": "x"},
                    200, 60.0, NOW)
    for _ in range(3):  # each collection untracks one more level of nested tuples (headers in the entry)
        gc.collect()
    assert len(gc.get_objects()) - before < 50


def test_a_hit_returns_what_was_stored_and_callers_cannot_change_the_stored_entry() -> None:
    store = MemoryCacheStore()
    stored = store.store("p", QUERY, "What is it?", b'{"x": 1}', {"content-type": "application/json"}, 203,
                         60.0, NOW)
    first = store.lookup("p", QUERY, 0.0, NOW).entry
    assert first == stored
    first.headers["content-type"] = "text/plain"
    assert store.lookup("p", QUERY, 0.0, NOW).entry.headers == {"content-type": "application/json"}


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_unit_vector_is_bit_for_bit_the_float64_norm_scaling(dtype: type) -> None:
    # A stored row's bytes identify an exact repeat: the normalisation must not change by a bit.
    rng = np.random.default_rng(7)
    for _ in range(50):
        vector = (rng.normal(size=384) * 1000).astype(dtype)
        v64 = np.asarray(vector, dtype=np.float64)
        expected = (v64 / np.linalg.norm(v64)).astype(np.float32)
        assert unit_vector(vector).tobytes() == expected.tobytes()


def _vector(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(8).astype(np.float32)


def test_bounded_call_asks_the_partitions_own_index() -> None:
    store = MemoryCacheStore()
    assert store.bounded_call("p", 0.0, 2)  # unknown: nothing to search
    for seed in range(3):
        store.store("p", _vector(seed), "q", b"{}", {}, 200, 10.0, 0.0)
    assert store.bounded_call("p", 0.0, 3) and not store.bounded_call("p", 0.0, 2)  # 3 rows, no graph
    assert store.bounded_call("other", 0.0, 2)  # another partition is not this one
    rows = ANN_THRESHOLD + 52  # past the threshold: a graph, the adds catching up (rows left out of it)
    for seed in range(rows):
        store.store("big", _vector(seed), "q", b"{}", {}, 200, 10.0 if seed <= rows // 2 else 100.0, 0.0)
    left_out = rows - store._partitions["big"]._in_graph
    assert left_out > 64
    assert store.bounded_call("big", 5.0, left_out)
    assert not store.bounded_call("big", 5.0, left_out - 1)  # more rows outside the graph than that
    assert not store.bounded_call("big", 10.0, left_out)  # more than half the rows dead by then: a compaction is due


def test_a_lookup_hands_back_its_normalised_query_hit_or_miss() -> None:
    store = MemoryCacheStore()
    empty = store.lookup("p", _vector(1), 0.1, 0.0)
    assert empty.query is not None and np.array_equal(empty.query.unit, unit_vector(_vector(1)))
    store.store("p", _vector(1), "q", b"{}", {}, 200, 10.0, 0.0)
    miss = store.lookup("p", _vector(2), 0.0, 0.0)
    hit = store.lookup("p", _vector(1), 0.1, 0.0)
    assert not miss.hit and np.array_equal(miss.query.unit, unit_vector(_vector(2)))
    assert hit.hit and np.array_equal(hit.query.unit, unit_vector(_vector(1)))
    expired = store.lookup("p", _vector(3), 0.1, 20.0)  # every row dead: nothing matched
    assert expired.best_distance is None and np.array_equal(expired.query.unit, unit_vector(_vector(3)))


def test_upkeep_indexes_a_partitions_rows_left_out_of_its_graph_and_never_waits_for_the_lock() -> None:
    store = MemoryCacheStore()
    assert store.upkeep("p", 4) == 0  # unknown partition
    rows = ANN_THRESHOLD + 52  # past the graph's threshold: the last adds leave rows to the upkeep
    for seed in range(rows):
        store.store("p", _vector(seed), "q", b"{}", {}, 200, 100.0, 0.0)
    assert store.upkeep("other", 4) == 0
    with store._lock:  # another thread's call holds the store: the upkeep gives up at once
        assert store.upkeep("p", 4) == 0
    index = store._partitions["p"]
    left_out = len(index) - index._in_graph
    assert left_out > 64  # the adds have been catching up since the threshold, two rows each
    indexed = [store.upkeep("p", 4) for _ in range(left_out // 4 + 2)]
    assert sum(indexed) == left_out and set(indexed[: left_out // 4]) == {4} and indexed[-1] == 0
    assert index._in_graph == len(index) == rows
