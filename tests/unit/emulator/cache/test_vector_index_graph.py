"""VectorIndex's graph bookkeeping (mutation gaps): the exact fallback hides a graph that falls behind or
keeps dead rows, so these check the graph itself. A graph that lags makes every lookup an exact scan."""

from __future__ import annotations

import math

import numpy as np

from toolkit.emulator.cache.vector_index import VectorIndex, unit_vector

DIM = 16


def _vectors(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([unit_vector(v) for v in rng.normal(size=(n, DIM))])


def test_rows_added_one_by_one_above_the_threshold_all_reach_the_graph() -> None:
    index: VectorIndex[int] = VectorIndex(ann_threshold=8, pending_rows=0)
    for i, vector in enumerate(_vectors(7, seed=1)):
        index.add(vector, math.inf, i)
    assert index._graph is None and index._in_graph == 0  # below the threshold: exact only
    for i, vector in enumerate(_vectors(40, seed=2), start=7):
        index.add(vector, math.inf, i)
    # From the threshold on each add inserts itself plus one row of catch-up: the 7 early rows are in.
    assert index._in_graph == len(index) == 47
    assert len(index._graph) == 47


def test_bulk_rows_join_the_graph_at_the_next_search_only_when_many() -> None:
    index: VectorIndex[int] = VectorIndex(ann_threshold=8, pending_rows=0)
    vectors = _vectors(30, seed=3)
    for i, vector in enumerate(vectors):
        index.add(vector, math.inf, i, bulk=True)
    assert index._in_graph == 0
    match, _ = index.nearest(vectors[5], now=0.0)
    assert match is not None and match.item == 5
    assert index._in_graph == 30 and len(index._graph) == 30


def test_compaction_removes_dead_rows_from_the_graph_and_renumbers() -> None:
    index: VectorIndex[int] = VectorIndex(ann_threshold=8, pending_rows=0)
    vectors = _vectors(60, seed=4)
    for i, vector in enumerate(vectors):
        index.add(vector, 10.0 if i % 3 == 0 else 100.0, i)
    index.discard(1)
    dropped = index.compact(now=50.0)
    assert sorted(dropped) == sorted([i for i in range(60) if i % 3 == 0] + [1])
    assert len(index) == len(index._graph) == index._in_graph == 60 - 20 - 1
    assert set(index._row_of.values()) == set(range(len(index)))
    for i in (2, 4, 59):
        match, considered = index.nearest(vectors[i], now=50.0)
        assert match is not None and match.item == i and considered == 39
        assert index._items[match.row] == i


def test_compact_if_sparse_waits_for_half_the_rows_and_at_least_sixteen() -> None:
    index: VectorIndex[int] = VectorIndex(ann_threshold=8, pending_rows=0)
    for i, vector in enumerate(_vectors(40, seed=5)):
        index.add(vector, 10.0 if i < 15 else 100.0, i)
    assert index.compact_if_sparse(now=50.0) == []  # 15 dead: fewer than 16
    index.discard(20)
    assert index.compact_if_sparse(now=50.0) == []  # 16 dead of 40: fewer than half
    for row in range(21, 25):
        index.discard(row)
    assert sorted(index.compact_if_sparse(now=50.0)) == list(range(15)) + list(range(20, 25))
    assert len(index) == 20


def test_graph_candidates_map_to_their_rows_after_compaction() -> None:
    # Graph results are keys; the exact fallback would hide a wrong key -> row mapping, so check it directly.
    index: VectorIndex[int] = VectorIndex(ann_threshold=8, pending_rows=0)
    for i, vector in enumerate(_vectors(40, seed=7)):
        index.add(vector, 10.0 if i % 3 == 0 else math.inf, i)
    index.compact(now=20.0)  # keys 0, 3, 6, ... are gone; the rest moved up
    held = {int(key): row for row, key in enumerate(index._keys[: len(index)])}
    assert index._row_of == held and 0 not in held and 3 not in held
    assert [index._items[held[key]] for key in (1, 2, 38)] == [1, 2, 38]
    for item in (1, 2, 38):  # found through the graph (every row is in it)
        match, _ = index.nearest(_vectors(40, seed=7)[item], now=20.0)
        assert match is not None and match.item == item and index._items[match.row] == item


def test_the_graphs_nearest_alive_candidates_are_re_ranked_up_to_reranked(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from toolkit.emulator.cache import vector_index

    index: VectorIndex[int] = VectorIndex(ann_threshold=8, pending_rows=0)
    vectors = _vectors(200, seed=8)
    for i, vector in enumerate(vectors):
        index.add(vector, math.inf, i)
    re_ranked: list[int] = []
    scores = vector_index._scores
    monkeypatch.setattr(vector_index, "_scores", lambda rows, query: (re_ranked.append(len(rows)), scores(rows, query))[1])
    noise = np.random.default_rng(1).normal(size=(200, DIM))
    for row in range(0, 200, 10):  # near rows, not repeats: the graph's first RERANKED alive rows, no more
        match, _ = index.nearest(unit_vector(vectors[row] + 0.05 * noise[row]), now=0.0)
        assert match is not None and match.item == row
    assert re_ranked == [vector_index.RERANKED] * 20
    query = unit_vector(vectors[50] + 0.05 * noise[50])
    graph_first = [int(k) for k in index._graph.search(query, vector_index.CANDIDATES, threads=1).keys]
    for key in graph_first[: vector_index.RERANKED]:  # the graph's nearest, dead: the next alive ones are re-ranked
        index.discard(index._row_of[key])
    re_ranked.clear()
    match, considered = index.nearest(query, now=0.0)
    assert re_ranked == [vector_index.RERANKED] and considered == 200 - vector_index.RERANKED
    assert match is not None and match.item not in graph_first[: vector_index.RERANKED]
    re_ranked.clear()
    match, _ = index.nearest(vectors[150], now=0.0)  # an exact repeat: found, re-ranked once
    assert match is not None and match.item == 150 and re_ranked[0] <= vector_index.RERANKED + 1


def test_an_add_leaves_up_to_pending_rows_out_of_the_graph_and_they_are_still_found() -> None:
    vectors = _vectors(40, seed=5)
    index: VectorIndex[int] = VectorIndex(ann_threshold=8, pending_rows=5)
    left_out = []
    for i, vector in enumerate(vectors):
        index.add(vector, math.inf, i)
        left_out.append(len(index) - index._in_graph)
    assert left_out[:7] == [1, 2, 3, 4, 5, 6, 7]  # below the threshold: no graph
    assert left_out[7:11] == [6, 5, 4, 5]  # the adds catch up (two rows each) only while more than 5 are left out
    assert max(left_out[8:]) == 5 and left_out[-1] > 0  # then the upkeep's share waits for it
    for row in (3, 37, 39):  # in the graph, and left out of it
        match, considered = index.nearest(vectors[row], now=0.0)
        assert considered == 40 and match is not None and match.item == row


def test_index_pending_puts_the_oldest_rows_left_out_in_the_graph_up_to_its_limit() -> None:
    vectors = _vectors(30, seed=6)
    small: VectorIndex[int] = VectorIndex(ann_threshold=50, pending_rows=5)
    for i, vector in enumerate(vectors):
        small.add(vector, math.inf, i)
    assert small.index_pending(10) == 0 and small._in_graph == 0  # below the threshold: no graph at all
    at_threshold: VectorIndex[int] = VectorIndex(ann_threshold=8, pending_rows=20)
    for i, vector in enumerate(vectors[:8]):
        at_threshold.add(vector, math.inf, i)
    assert at_threshold._in_graph == 0 and at_threshold.index_pending(3) == 3  # from the threshold on
    index: VectorIndex[int] = VectorIndex(ann_threshold=8, pending_rows=20)
    for i, vector in enumerate(vectors):
        index.add(vector, math.inf, i)
    assert index._in_graph == 10  # 30 rows, 20 left out
    assert index.index_pending(3) == 3 and index._in_graph == 13
    keys = np.asarray(index._graph.search(vectors[12], 1, threads=1).keys)
    assert keys.tolist() == [12]  # row 12, the oldest left out before, is in the graph now
    assert index.index_pending(100) == 17 and index._in_graph == 30
    assert index.index_pending(100) == 0


def test_the_graphs_candidates_are_what_its_public_search_answers_nearest_first() -> None:
    # _graph_keys calls the compiled search under usearch's Index.search: same keys, same order, and no more than
    # the graph holds (asked for 32 of 20 rows, it answers 20).
    index: VectorIndex[int] = VectorIndex(ann_threshold=8, pending_rows=0)
    vectors = _vectors(20, seed=6)
    for i, vector in enumerate(vectors):
        index.add(vector, math.inf, i)
    for query in _vectors(5, seed=7):
        for count in (1, 5, 32):
            keys = index._graph_keys(query, count)
            assert keys == index._graph.search(query, count, threads=1).keys.tolist()
            assert len(keys) == min(count, 20) and len(set(keys)) == len(keys)
            scores = [float(vectors[index._row_of[key]] @ query) for key in keys]
            assert scores[0] == max(scores)  # nearest first (20 rows: the graph search is exact here)


def test_a_tie_between_a_graph_row_and_a_newer_row_outside_it_goes_to_the_oldest() -> None:
    # The same vector stored twice, once in the graph and once among the rows added since (searched exactly): both
    # score alike, and the older row is the answer, as in an exact search of every row.
    index: VectorIndex[int] = VectorIndex(ann_threshold=8, pending_rows=10**6)
    vectors = _vectors(30, seed=8)
    for i, vector in enumerate(vectors):
        index.add(vector, math.inf, i)
    index.index_pending(30)
    assert index._in_graph == 30
    index.add(vectors[4], math.inf, 30)  # a repeat, left out of the graph
    assert index._in_graph == 30 and len(index) == 31
    match, _ = index.nearest(vectors[4], now=0.0)
    assert match is not None and match.item == 4 and match.row == 4
