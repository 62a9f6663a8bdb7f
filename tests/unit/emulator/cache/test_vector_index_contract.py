"""VectorIndex's answers at the edges: expiry instants, dimension errors, the graph falling behind or
missing, compaction. Each case is one a wrong change once let through (mutation run of vector_index.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from toolkit.emulator.cache.vector_index import VectorIndex, unit_vector

DIM = 16


def _around(direction: np.ndarray, n: int, seed: int, spread: float = 0.3) -> np.ndarray:
    """``n`` unit vectors scattered around ``direction``."""
    rng = np.random.default_rng(seed)
    return np.stack([unit_vector(direction + spread * rng.normal(size=DIM)) for _ in range(n)])


def _random_unit(seed: int) -> np.ndarray:
    return unit_vector(np.random.default_rng(seed).normal(size=DIM))


def _near(vector: np.ndarray, seed: int) -> np.ndarray:
    return unit_vector(vector + 0.01 * np.random.default_rng(seed).normal(size=DIM))


# -- unit_vector -------------------------------------------------------------------------------------

def test_unit_vector_is_contiguous_float32_of_length_one_whatever_the_input_type() -> None:
    for vector in (np.arange(1, 5, dtype=np.float64), np.arange(1, 5, dtype=np.int64), [1.0, 2.0, 3.0, 4.0]):
        unit = unit_vector(np.asarray(vector))
        # float32 is the stored row format: an exact repeat is recognised by the bytes of the vector
        assert unit.dtype == np.float32 and unit.flags.c_contiguous
        assert float(np.linalg.norm(unit)) == pytest.approx(1.0, abs=1e-6)
        assert unit.tobytes() == unit_vector(np.asarray(vector, dtype=np.float32)).tobytes()


@pytest.mark.parametrize("scale", [1e30, 1e-30])
def test_unit_vector_scales_very_large_or_very_small_finite_components(scale: float) -> None:
    # In float32 their squares overflow to inf or vanish to 0: the vector is still a usable direction.
    vector = np.array([3.0, 4.0], dtype=np.float32) * np.float32(scale)
    assert unit_vector(vector).tolist() == pytest.approx([0.6, 0.8], abs=1e-6)


def test_unit_vector_refusals_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match=r"^expected a 1-D vector, got shape \(2, 3\)$"):
        unit_vector(np.ones((2, 3)))
    for bad in ([0.0, 0.0], [1.0, math.nan], [math.inf, 1.0]):
        with pytest.raises(ValueError, match="^cannot use a zero or non-finite vector$"):
            unit_vector(np.array(bad))


def test_cosine_distance_stays_within_0_and_2_even_for_the_opposite_vector() -> None:
    # In float32, x . (-x) is sometimes a hair below -1 (2 of these 200): the distance must still not exceed 2.
    rng = np.random.default_rng(0)
    distances = []
    for _ in range(200):
        stored = unit_vector(rng.normal(size=48))
        index: VectorIndex[str] = VectorIndex()
        index.add(stored, math.inf, "stored")
        match, _ = index.nearest(-stored, now=0.0)
        assert match is not None
        distances.append(match.distance)
        assert index.nearest(stored, now=0.0)[0].distance >= 0.0
    assert max(distances) == 2.0 and min(distances) == pytest.approx(2.0, abs=1e-6)


# -- dimensions and empty indexes --------------------------------------------------------------------

def test_a_vector_or_query_of_another_dimension_is_refused_naming_which() -> None:
    index: VectorIndex[int] = VectorIndex()
    index.add(_random_unit(1), math.inf, 0)
    with pytest.raises(ValueError, match=f"^vector has 3 dimensions, this partition holds {DIM}$"):
        index.add(unit_vector(np.ones(3)), math.inf, 1)
    with pytest.raises(ValueError, match=f"^query has 5 dimensions, this partition holds {DIM}$"):
        index.nearest(unit_vector(np.ones(5)), now=0.0)


def test_a_new_index_counts_nothing_alive_even_when_the_clock_goes_back() -> None:
    index: VectorIndex[int] = VectorIndex()
    assert index.alive_count(now=10.0) == 0 and index.alive_count(now=5.0) == 0
    assert index.compact_if_sparse(now=5.0) == [] and index.compact(now=5.0) == []
    assert index.nearest(_random_unit(1), now=5.0) == (None, 0) and index.dimension is None


def test_an_index_emptied_by_compaction_answers_no_match_to_any_query() -> None:
    index: VectorIndex[int] = VectorIndex()
    for i in range(3):
        index.add(_random_unit(i), 10.0, i)
    assert sorted(index.compact(now=20.0)) == [0, 1, 2] and len(index) == 0
    assert index.nearest(_random_unit(7), now=20.0) == (None, 0)
    assert index.nearest(unit_vector(np.ones(3)), now=20.0) == (None, 0)  # nothing stored: nothing to compare


# -- ties ----------------------------------------------------------------------------------------------

def test_identical_rows_score_alike_wherever_they_sit_and_the_oldest_wins() -> None:
    """A prompt stored several times (each its own entry) and a query near it: the exact search finds the first
    copy stored. A kernel whose rounding depends on a row's position in the matrix (BLAS's matvec: here it gives
    the copy in row 1,100 a higher score than the one in row 3) breaks this. (Through the graph, which copy is
    found is not promised.)"""
    rng = np.random.default_rng(0)
    repeated = unit_vector(rng.normal(size=384))
    query = unit_vector(repeated + 0.05 * rng.normal(size=384))
    copies = (3, 1098, 1099, 1100)
    index: VectorIndex[int] = VectorIndex(ann_threshold=10_000)
    for i in range(1101):
        index.add(repeated if i in copies else unit_vector(rng.normal(size=384)), 100.0, i)
    match, considered = index.nearest(query, now=0.0)
    assert considered == 1101 and match is not None and (match.item, match.row) == (3, 3)
    index.discard(3)  # the oldest copy gone: the next oldest
    match, _ = index.nearest(query, now=0.0)
    assert match is not None and match.item == 1098


# -- expiry ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("threshold", [10_000, 16])  # exact search only; graph from 16 rows on
def test_a_row_is_dead_from_the_instant_it_expires(threshold: int) -> None:
    vectors = _around(_random_unit(1), 60, seed=2)
    index: VectorIndex[int] = VectorIndex(ann_threshold=threshold)
    for i, vector in enumerate(vectors):
        index.add(vector, 10.0 if i == 5 else 100.0, i)
    match, considered = index.nearest(vectors[5], now=10.0)  # the exact repeat of the row expiring now
    assert considered == 59 and match is not None and match.item != 5
    assert index.alive_count(now=9.999) == 60 and index.alive_count(now=10.0) == 59


def test_a_clock_going_back_to_an_expiry_instant_counts_that_row_dead() -> None:
    index: VectorIndex[int] = VectorIndex()
    for i, expiry in enumerate((10.0, 20.0, 30.0)):
        index.add(_random_unit(i), expiry, i)
    assert index.alive_count(now=25.0) == 1
    assert index.alive_count(now=20.0) == 1  # back in time, exactly when row 1 expired
    assert index.alive_count(now=15.0) == 2


def test_compaction_drops_a_row_expiring_at_that_instant_and_kept_rows_still_expire_on_time() -> None:
    index: VectorIndex[int] = VectorIndex()
    vectors = [_random_unit(i) for i in range(30)]
    expiries = [50.0 if i < 10 else 100.0 if i < 20 else 200.0 for i in range(30)]
    for i, (vector, expiry) in enumerate(zip(vectors, expiries)):
        index.add(vector, expiry, i)
    assert sorted(index.compact(now=50.0)) == list(range(10))
    assert index.alive_count(now=150.0) == 10
    for i in (10, 19):  # expired at 100: never matched after it, though stored before the compaction
        match, considered = index.nearest(vectors[i], now=150.0)
        assert considered == 10 and match is not None and match.item >= 20
    match, _ = index.nearest(vectors[25], now=150.0)
    assert match is not None and match.item == 25


def test_compact_if_sparse_needs_at_least_half_the_rows_dead() -> None:
    small: VectorIndex[int] = VectorIndex()
    for i in range(32):
        small.add(_random_unit(i), 10.0 if i < 16 else 100.0, i)
    assert sorted(small.compact_if_sparse(now=50.0)) == list(range(16))  # 16 of 32: half, and 16
    index: VectorIndex[int] = VectorIndex()
    for i in range(41):
        index.add(_random_unit(i), 10.0 if i < 20 else 100.0, i)
    assert index.compact_if_sparse(now=50.0) == []  # 20 of 41 dead: fewer than half
    index.discard(40)
    assert sorted(index.compact_if_sparse(now=50.0)) == [*range(20), 40]  # 21 of 41
    assert len(index) == 20


# -- the graph: what it returns, what it misses ------------------------------------------------------

def _graph_index(n: int, direction: np.ndarray, seed: int, expires_at: float = math.inf) -> tuple[VectorIndex[int], np.ndarray]:
    """An index of ``n`` rows around ``direction``, every row in the graph (threshold 16, caught up)."""
    vectors = _around(direction, n, seed)
    index: VectorIndex[int] = VectorIndex(ann_threshold=16, pending_rows=0)
    for i, vector in enumerate(vectors):
        index.add(vector, expires_at, i)
    return index, vectors


def test_a_lookup_above_the_threshold_scans_no_row_the_graph_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    index, vectors = _graph_index(300, _random_unit(1), seed=2)
    scanned: list[int] = []
    exact = index._nearest_exact

    def counting(query: np.ndarray, now: float, start: int, stop: int) -> object:
        scanned.append(max(stop - start, 0))
        return exact(query, now, start, stop)

    monkeypatch.setattr(index, "_nearest_exact", counting)
    for row in (0, 150, 299):
        match, _ = index.nearest(_near(vectors[row], seed=row), now=0.0)
        assert match is not None and match.item == row
    # every row is in the graph: the graph's candidates answer, no row is compared one by one
    assert sum(scanned) == 0


def test_graph_rows_and_rows_not_yet_in_it_are_both_searched() -> None:
    index, vectors = _graph_index(100, _random_unit(1), seed=2)
    tail = _around(_random_unit(3), 5, seed=4)
    for i, vector in enumerate(tail, start=100):
        index.add(vector, math.inf, i, bulk=True)  # a few bulk rows: searched exactly, not indexed yet
    for row in (0, 42, 99):
        match, considered = index.nearest(_near(vectors[row], seed=row), now=0.0)
        assert considered == 105 and match is not None and match.item == row
    for offset in range(5):
        match, _ = index.nearest(_near(tail[offset], seed=offset), now=0.0)
        assert match is not None and match.item == 100 + offset


def test_when_every_graph_candidate_is_dead_the_alive_rows_are_still_found() -> None:
    direction = _random_unit(1)
    vectors = _around(direction, 100, seed=2)
    vectors[0] = unit_vector(-direction)  # the one row alive, far from every query below
    index: VectorIndex[int] = VectorIndex(ann_threshold=16, pending_rows=0)
    for i, vector in enumerate(vectors):
        index.add(vector, math.inf if i == 0 else 10.0, i)
    for i, vector in enumerate(_around(direction, 3, seed=3), start=100):
        index.add(vector, 10.0, i, bulk=True)  # dead rows not yet in the graph
    for row in (5, 50, 99):
        match, considered = index.nearest(_near(vectors[row], seed=row), now=50.0)
        assert considered == 1 and match is not None and match.item == 0 and match.distance > 1.0


def test_bulk_rows_are_indexed_at_a_search_only_beyond_the_threshold() -> None:
    index: VectorIndex[int] = VectorIndex(ann_threshold=16, pending_rows=0)
    vectors = _around(_random_unit(1), 24, seed=2)
    for i in range(16):
        index.add(vectors[i], math.inf, i, bulk=True)
    assert index.nearest(vectors[3], now=0.0)[0].item == 3
    assert index._in_graph == 0  # 16 rows: exact search is still the cheaper one
    index.add(vectors[16], math.inf, 16, bulk=True)
    assert index.nearest(vectors[16], now=0.0)[0].item == 16
    assert index._in_graph == 17
    for i in range(17, 24):
        index.add(vectors[i], math.inf, i, bulk=True)
    assert index.nearest(vectors[20], now=0.0)[0].item == 20
    assert index._in_graph == 17  # 7 new rows: searched exactly until more than the threshold pile up


def test_rows_added_after_a_compaction_are_found_through_the_graph() -> None:
    index, vectors = _graph_index(80, _random_unit(1), seed=2, expires_at=10.0)
    later = _around(_random_unit(3), 80, seed=4)
    for i, vector in enumerate(later, start=80):
        index.add(vector, 100.0, i)
    assert len(index.compact(now=50.0)) == 80
    newest = _around(_random_unit(5), 60, seed=6)
    for i, vector in enumerate(newest, start=160):
        index.add(vector, 100.0, i)
    for offset in (0, 30, 59):
        match, considered = index.nearest(_near(newest[offset], seed=offset), now=50.0)
        assert considered == 140 and match is not None and match.item == 160 + offset
    for offset in (0, 79):
        match, _ = index.nearest(_near(later[offset], seed=offset), now=50.0)
        assert match is not None and match.item == 80 + offset


def test_an_exact_repeat_is_found_after_a_compaction_even_when_the_graph_misses_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    index, vectors = _graph_index(120, _random_unit(1), seed=2)
    for row in range(0, 120, 2):
        index.discard(row)
    index.compact(now=0.0)
    elsewhere = unit_vector(-_random_unit(1))
    graph_keys = index._graph_keys  # the graph misleads: it answers with the rows nearest some other vector
    monkeypatch.setattr(index, "_graph_keys", lambda query, count: graph_keys(elsewhere, count))
    for row in (1, 61, 119):
        match, _ = index.nearest(vectors[row], now=0.0)
        assert match is not None and match.item == row and match.distance == pytest.approx(0.0, abs=1e-6)
