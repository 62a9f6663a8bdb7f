"""Behaviour every SemanticCacheStore shares, run against the memory and the Redis store."""

from __future__ import annotations

import numpy as np
import pytest
from toolkit.testing.cache_vectors import DIM, QUERY, at_distance

from toolkit.emulator.cache.base import CacheEntry, SemanticCacheStore

NOW = 1_000.0


def put(store: SemanticCacheStore, vector: np.ndarray, prompt: str = "p", *,
        partition: str = "sub-1", ttl: float = 60.0, now: float = NOW) -> CacheEntry:
    return store.store(partition, vector, prompt, prompt.encode(), {"x-prompt": prompt}, 200,
                       ttl, now)


def test_is_a_semantic_cache_store(store: SemanticCacheStore) -> None:
    assert isinstance(store, SemanticCacheStore)


def test_empty_store_misses(store: SemanticCacheStore) -> None:
    result = store.lookup("sub-1", QUERY, 0.05, NOW)
    assert (result.hit, result.best_distance, result.entry, result.entries_considered) == (
        False, None, None, 0)


@pytest.mark.parametrize(
    ("distance", "threshold", "hit"),
    [(0.0, 0.0, True), (0.02, 0.05, True), (0.049, 0.05, True), (0.051, 0.05, False),
     (0.10, 0.05, False), (0.30, 0.2, False), (0.19, 0.2, True)],
)
def test_hit_or_miss_by_distance_threshold(
    store: SemanticCacheStore, distance: float, threshold: float, hit: bool
) -> None:
    put(store, at_distance(distance))
    result = store.lookup("sub-1", QUERY, threshold, NOW)
    assert result.hit is hit
    assert result.best_distance == pytest.approx(distance, abs=1e-5)
    assert result.entries_considered == 1
    assert (result.entry is not None) is hit


def test_hit_returns_the_stored_entry(store: SemanticCacheStore) -> None:
    body = b'{"id": "chatcmpl-1", "bytes": "\xff\x00"}'
    stored = store.store("sub-1", at_distance(0.01), "What is climate change?", body,
                         {"content-type": "application/json"}, 200, 120.0, NOW)
    result = store.lookup("sub-1", QUERY, 0.05, NOW + 1)
    assert result.entry == stored
    assert result.entry.body == body
    assert result.entry.headers == {"content-type": "application/json"}
    assert (result.entry.stored_at, result.entry.expires_at) == (NOW, NOW + 120.0)


def test_best_of_many_wins(store: SemanticCacheStore) -> None:
    put(store, at_distance(0.04, axis=1), "far")
    put(store, at_distance(0.01, axis=2), "best")
    put(store, at_distance(0.03, axis=3), "middle")
    put(store, at_distance(0.60, axis=4), "unrelated")
    result = store.lookup("sub-1", QUERY, 0.05, NOW)
    assert result.hit and result.entry.prompt == "best"
    assert result.best_distance == pytest.approx(0.01, abs=1e-5)
    assert result.entries_considered == 4


def test_vectors_need_not_be_normalised(store: SemanticCacheStore) -> None:
    put(store, at_distance(0.02) * 7.5)
    result = store.lookup("sub-1", QUERY * 0.1, 0.05, NOW)
    assert result.hit and result.best_distance == pytest.approx(0.02, abs=1e-5)


def test_partitions_are_isolated(store: SemanticCacheStore) -> None:
    put(store, at_distance(0.0), "a's answer", partition="a")
    other = store.lookup("b", QUERY, 0.05, NOW)
    assert not other.hit and other.entries_considered == 0 and other.best_distance is None
    own = store.lookup("a", QUERY, 0.05, NOW)
    assert own.hit and own.entry.partition == "a"


def test_entry_expires_at_now_plus_ttl(store: SemanticCacheStore) -> None:
    put(store, at_distance(0.01), ttl=60.0)
    assert store.lookup("sub-1", QUERY, 0.05, NOW + 59.9).hit
    gone = store.lookup("sub-1", QUERY, 0.05, NOW + 60.0)
    assert (gone.hit, gone.best_distance, gone.entries_considered) == (False, None, 0)


def test_expired_best_gives_way_to_a_live_worse_entry(store: SemanticCacheStore) -> None:
    put(store, at_distance(0.001, axis=1), "short-lived", ttl=10.0)
    put(store, at_distance(0.03, axis=2), "long-lived", ttl=100.0)
    assert store.lookup("sub-1", QUERY, 0.05, NOW + 5).entry.prompt == "short-lived"
    later = store.lookup("sub-1", QUERY, 0.05, NOW + 20)
    assert later.entry.prompt == "long-lived" and later.entries_considered == 1


def test_count_is_alive_entries_over_all_partitions(store: SemanticCacheStore) -> None:
    put(store, at_distance(0.1), partition="a", ttl=10.0)
    put(store, at_distance(0.2), partition="a", ttl=100.0)
    put(store, at_distance(0.3), partition="b", ttl=100.0)
    assert store.count(NOW) == 3
    assert store.count(NOW + 50) == 2
    assert store.count(NOW + 500) == 0


def test_clear_removes_everything_and_store_still_works(store: SemanticCacheStore) -> None:
    put(store, at_distance(0.01), partition="a")
    put(store, at_distance(0.01), partition="b")
    assert store.lookup("a", QUERY, 0.05, NOW).hit  # loads any local mirror before the clear
    store.clear()
    assert store.count(NOW) == 0
    assert not store.lookup("a", QUERY, 0.05, NOW).hit
    put(store, at_distance(0.02), "after clear", partition="a")
    assert store.lookup("a", QUERY, 0.05, NOW).entry.prompt == "after clear"


def test_nearest_matches_brute_force_through_growth_and_compaction(
    store: SemanticCacheStore,
) -> None:
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((150, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ttls = np.where(np.arange(150) % 3 == 0, 1_000.0, 10.0)  # two thirds expire at NOW + 10
    for i, (vector, ttl) in enumerate(zip(vectors, ttls, strict=True)):
        put(store, vector, f"p{i}", ttl=float(ttl))
    queries = rng.standard_normal((20, DIM)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    for when in (NOW, NOW + 20, NOW + 30):  # the later lookups see (and compact) expired rows
        alive = ttls + NOW > when
        for query in queries:
            scores = np.where(alive, vectors @ query, -np.inf)
            result = store.lookup("sub-1", query, 1.0, when)
            assert result.entry.prompt == f"p{int(np.argmax(scores))}"
            assert result.best_distance == pytest.approx(1 - scores.max(), abs=1e-5)
            assert result.entries_considered == int(alive.sum())
    put(store, vectors[1], "late", now=NOW + 30)  # storing after compaction still works
    assert store.lookup("sub-1", vectors[1], 0.0, NOW + 30).entry.prompt == "late"


@pytest.mark.parametrize("ttl", [0.0, -1.0])
def test_non_positive_ttl_is_refused(store: SemanticCacheStore, ttl: float) -> None:
    with pytest.raises(ValueError, match="ttl_seconds"):
        put(store, QUERY, ttl=ttl)


@pytest.mark.parametrize("threshold", [-0.01, 1.01])
def test_threshold_outside_0_1_is_refused(store: SemanticCacheStore, threshold: float) -> None:
    with pytest.raises(ValueError, match="score_threshold"):
        store.lookup("sub-1", QUERY, threshold, NOW)


def test_zero_or_mismatched_vectors_are_refused(store: SemanticCacheStore) -> None:
    with pytest.raises(ValueError, match="zero"):
        put(store, np.zeros(DIM, dtype=np.float32))
    put(store, QUERY)
    with pytest.raises(ValueError, match="dimensions"):
        store.lookup("sub-1", np.ones(8, dtype=np.float32), 0.05, NOW)


# -- the lookup's normalised query, handed on to store(..., query=) -----------------------------------

def test_a_lookup_hands_back_its_normalised_query_read_only_and_outside_equality(store: SemanticCacheStore) -> None:
    from toolkit.emulator.cache.base import LookupResult
    from toolkit.emulator.cache.vector_index import UnitQuery, unit_vector

    raw = 3.0 * at_distance(0.3)  # not unit length: the lookup normalises it
    result = store.lookup("sub-1", raw, 0.05, NOW)
    assert type(result.query) is UnitQuery
    assert result.query.unit.tobytes() == unit_vector(raw).tobytes()
    with pytest.raises(ValueError, match="read-only"):
        result.query.unit[0] = 0.0
    assert result == LookupResult(False, None, None, 0)  # the query is not part of the outcome


def _counting_unit_vector(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    from toolkit.emulator.cache import vector_index

    calls: list[int] = []
    original = vector_index.unit_vector

    def counting(vector: np.ndarray) -> np.ndarray:
        calls.append(1)
        return original(vector)

    monkeypatch.setattr(vector_index, "unit_vector", counting)
    return calls


def test_a_store_given_the_lookups_query_of_the_same_vector_does_not_normalise_again(
    store: SemanticCacheStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _counting_unit_vector(monkeypatch)
    raw = 5.0 * at_distance(0.02)
    miss = store.lookup("sub-1", raw, 0.0, NOW)
    assert len(calls) == 1
    store.store("sub-1", raw, "p", b"p", {}, 200, 60.0, NOW, query=miss.query)
    assert len(calls) == 1  # reused
    put(store, at_distance(0.3))  # without a query: normalised as before
    assert len(calls) == 2
    result = store.lookup("sub-1", QUERY, 0.05, NOW)
    assert result.hit and result.entry is not None and result.entry.prompt == "p"
    assert result.best_distance == pytest.approx(0.02, abs=1e-5)


def test_a_query_of_another_vector_or_a_look_alike_never_gets_into_the_store(
    store: SemanticCacheStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    far = at_distance(0.9)
    near = at_distance(0.01, axis=2)
    far_query = store.lookup("sub-1", far, 0.0, NOW).query
    equal_copy = far.copy()  # the same values in another object: normalised again, not trusted
    look_alike = type("UnitQueryLookAlike", (), {"_source": near, "_unit": far_query.unit, "unit": far_query.unit})()
    calls = _counting_unit_vector(monkeypatch)
    store.store("sub-1", near, "near", b"near", {}, 200, 60.0, NOW, query=far_query)
    store.store("sub-1", equal_copy, "copy", b"copy", {}, 200, 60.0, NOW, query=far_query)
    store.store("sub-1", near, "look-alike", b"x", {}, 200, 60.0, NOW, query=look_alike)  # type: ignore[arg-type]
    assert len(calls) == 3
    # the rows stored are the vectors' own: QUERY is 0.01 from `near` (twice), 0.9 from the copy of `far`
    result = store.lookup("sub-1", QUERY, 0.05, NOW)
    assert result.hit and result.best_distance == pytest.approx(0.01, abs=1e-5)
    assert result.entry is not None and result.entry.prompt in ("near", "look-alike")
    assert store.lookup("sub-1", at_distance(0.0, axis=2), 1.0, NOW).entries_considered == 3
    assert store.lookup("sub-1", far, 0.0, NOW).hit  # the copy of `far` stored as itself
    assert store.count(NOW) == 3
