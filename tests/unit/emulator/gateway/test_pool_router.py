"""PoolRouter: priority groups, weighted draws (chi-square with fixed seeds), spill-over, ARM parsing."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Iterable

import pytest

from toolkit.emulator.gateway.pool import (
    MAX_MEMBERS,
    PoolMember,
    PoolRouter,
    expected_shares,
    members_from_arm,
)
from toolkit.errors import ArtifactError

DRAWS = 20_000
# Upper 0.1 % points of the chi-square distribution (α = 0.001), by degrees of freedom.
CHI2_CRITICAL_0_001 = {1: 10.828, 2: 13.816, 29: 58.301}

EAST, NORTH, WEST = "openai-eastus", "openai-northcentralus", "openai-westus"


def everyone(_: str) -> bool:
    return True


def all_but(*down: str) -> Callable[[str], bool]:
    return lambda name: name not in down


def draw(router: PoolRouter, is_available: Callable[[str], bool] = everyone, n: int = DRAWS) -> Counter:
    return Counter(router.choose(is_available) for _ in range(n))


def chi_square(counts: Counter, shares: dict[str, float]) -> float:
    """Pearson's statistic of ``counts`` against the expected ``shares`` (members with share > 0)."""
    n = sum(counts.values())
    return sum((counts[name] - n * p) ** 2 / (n * p) for name, p in shares.items() if p > 0)


def assert_fits(counts: Counter, shares: dict[str, float]) -> None:
    assert set(counts) <= {name for name, p in shares.items() if p > 0}, counts
    df = sum(1 for p in shares.values() if p > 0) - 1
    statistic = chi_square(counts, shares)
    assert statistic < CHI2_CRITICAL_0_001[df], (statistic, counts)


def router(members: Iterable[tuple], seed: int = 7) -> PoolRouter:
    return PoolRouter([PoolMember(*m) for m in members], random.Random(seed))


@pytest.fixture
def sample_pool(repo_root) -> dict:
    """The sample pool's backendInformation.json, rendered from toolkit.yaml."""
    from toolkit.config import load_config
    from toolkit.render import render_artifacts

    loaded = load_config(repo_root / "toolkit.yaml")
    text = render_artifacts(loaded.gateway, repo_root / "policies").get(
        "backends/openai-backend-pool/backendInformation.json"
    )
    assert text is not None
    return json.loads(text)


def test_sample_members(sample_pool):
    assert members_from_arm(sample_pool) == [
        PoolMember(EAST, 1, 50),
        PoolMember(NORTH, 1, 50),
        PoolMember(WEST, 2, 100),
    ]


def test_sample_priority_one_splits_evenly(sample_pool):
    pool = PoolRouter.from_arm(sample_pool, rng=random.Random(2024))
    counts = draw(pool)
    assert counts[WEST] == 0
    assert_fits(counts, {EAST: 0.5, NORTH: 0.5})


def test_the_chi_square_check_rejects_a_wrong_split(sample_pool):
    counts = draw(PoolRouter.from_arm(sample_pool, rng=random.Random(2024)))
    assert chi_square(counts, {EAST: 0.75, NORTH: 0.25}) > CHI2_CRITICAL_0_001[1]


def test_weights_three_to_one():
    counts = draw(router([("a", 1, 3), ("b", 1, 1)]))
    assert_fits(counts, {"a": 0.75, "b": 0.25})


def test_lower_priority_gets_nothing_while_a_higher_member_is_up(sample_pool):
    pool = PoolRouter.from_arm(sample_pool, rng=random.Random(1))
    assert draw(pool, all_but(EAST), 2_000) == Counter({NORTH: 2_000})
    assert draw(pool, all_but(NORTH), 2_000) == Counter({EAST: 2_000})


def test_spills_over_only_when_the_whole_group_is_down(sample_pool):
    pool = PoolRouter.from_arm(sample_pool, rng=random.Random(1))
    assert draw(pool, all_but(EAST, NORTH), 1_000) == Counter({WEST: 1_000})


def test_none_when_nothing_is_available(sample_pool):
    pool = PoolRouter.from_arm(sample_pool, rng=random.Random(1))
    assert pool.choose(all_but(EAST, NORTH, WEST)) is None
    single = router([("only", 1, 1)])
    assert single.choose(lambda _: False) is None
    assert single.choose(everyone) == "only"


def test_redraw_keeps_the_weights_of_the_available_members():
    pool = router([("a", 1, 2), ("b", 1, 1), ("c", 1, 1), ("d", 2, 1)])
    assert_fits(draw(pool, all_but("a")), {"b": 0.5, "c": 0.5})
    assert_fits(draw(pool, all_but("b")), {"a": 2 / 3, "c": 1 / 3})


def test_weight_zero_is_a_standby_inside_its_group():
    pool = router([("standby", 1, 0), ("b", 1, 5), ("c", 1, 5), ("next", 2, 5)])
    assert draw(pool)["standby"] == 0
    assert draw(pool, all_but("b"), 1_000) == Counter({"c": 1_000})
    assert draw(pool, all_but("b", "c"), 1_000) == Counter({"standby": 1_000})
    assert draw(pool, all_but("b", "c", "standby"), 1_000) == Counter({"next": 1_000})


def test_all_zero_weights_are_round_robin_in_the_pools_order():
    zeros = router([("a", 1, 0), ("b", 1, 0), ("c", 1, 0)])
    assert [zeros.choose(everyone) for _ in range(7)] == ["a", "b", "c", "a", "b", "c", "a"]
    # Over the members available now: equal shares of what is left, still in rotation.
    again = router([("a", 1, 0), ("b", 1, 0), ("c", 1, 0)])
    assert [again.choose(all_but("a")) for _ in range(4)] == ["b", "c", "b", "c"]
    assert draw(again, all_but("a"), 1_000) == Counter({"b": 500, "c": 500})


def test_missing_weights_are_round_robin_and_count_as_zero_next_to_set_ones():
    unset = router([("a", 1, None), ("b", 1, None)])
    assert [unset.choose(everyone) for _ in range(4)] == ["a", "b", "a", "b"]
    assert draw(router([("a", 1, None), ("b", 1, 3)]), n=1_000) == Counter({"b": 1_000})


def test_several_standbys_share_equally_when_the_weighted_members_are_down():
    pool = router([("s1", 1, 0), ("w", 1, 5), ("s2", 1, 0), ("s3", 1, 0)])
    assert draw(pool, all_but("w"), 999) == Counter({"s1": 333, "s2": 333, "s3": 333})


@pytest.mark.parametrize("field", ["weight", "priority"])
def test_a_boolean_weight_or_priority_is_refused(field):
    with pytest.raises(ArtifactError, match=f"{field} must be an integer 0..100"):
        PoolRouter([PoolMember("a", **{field: True})], random.Random(0))


def test_missing_priority_joins_the_top_group():
    pool = router([("unset", None, 1), ("zero", 0, 1), ("one", 1, 1)])
    counts = draw(pool)
    assert counts["one"] == 0
    assert_fits(counts, {"unset": 0.5, "zero": 0.5})


def test_thirty_members_follow_their_weights():
    members = [(f"b{i:02d}", 1, i) for i in range(1, MAX_MEMBERS + 1)]
    total = sum(range(1, MAX_MEMBERS + 1))
    counts = draw(router(members), n=60_000)
    assert_fits(counts, {name: w / total for name, _, w in members})


def test_thirty_priority_levels_take_the_first_available():
    pool = router([(f"b{i:02d}", i, 1) for i in range(MAX_MEMBERS)])
    down = {f"b{i:02d}" for i in range(17)}
    assert draw(pool, lambda name: name not in down, 500) == Counter({"b17": 500})


def test_same_seed_same_sequence(sample_pool):
    a = PoolRouter.from_arm(sample_pool, rng=random.Random(5))
    b = PoolRouter.from_arm(sample_pool, rng=random.Random(5))
    assert [a.choose(everyone) for _ in range(200)] == [b.choose(everyone) for _ in range(200)]


def test_expected_shares(sample_pool):
    assert expected_shares(members_from_arm(sample_pool)) == {EAST: 0.5, NORTH: 0.5, WEST: 0.0}
    members = [PoolMember("a", 1, 3), PoolMember("b", 1, 1), PoolMember("z", 1, 0), PoolMember("c", 5, 9)]
    assert expected_shares(members) == {"a": 0.75, "b": 0.25, "z": 0.0, "c": 0.0}
    assert expected_shares([PoolMember("a", 1, 0), PoolMember("b", 1, 0)]) == {"a": 0.5, "b": 0.5}
    assert expected_shares([PoolMember("a"), PoolMember("b"), PoolMember("c", 1)]) == {"a": 0.5, "b": 0.5, "c": 0.0}


# --- ARM parsing and validation ----------------------------------------------------------------


def pool_json(*services: dict) -> dict:
    return {"properties": {"type": "Pool", "pool": {"services": list(services)}}}


def test_member_ids_in_both_forms():
    full = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim/backends/aoai-eastus"
    members = members_from_arm(pool_json({"id": full, "priority": 1}, {"id": "/backends/aoai-westus/"}))
    assert members == [PoolMember("aoai-eastus", 1, None), PoolMember("aoai-westus", None, None)]


def test_resolve_name_is_used():
    seen = []

    def resolve(member_id: str) -> str:
        seen.append(member_id)
        return member_id.upper()

    pool = PoolRouter.from_arm(pool_json({"id": "x"}), resolve, random.Random(0))
    assert seen == ["x"]
    assert pool.choose(everyone) == "X"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"properties": {"type": "Single", "url": "https://x"}}, "^backend type is 'Single', not 'Pool'$"),
        ({"properties": {"type": "Pool"}}, "^pool.services must be a list$"),
        (pool_json(), "^a backend pool needs at least one member$"),
        (pool_json({"priority": 1}), "services\\[0\\]"),
        (pool_json({"id": "aoai-eastus"}), "does not name a backend"),
        (pool_json({"id": "/backends/a/extra"}), "does not name a backend"),
        (pool_json({"id": "/backends/a", "priority": 101}), "priority must be an integer 0..100"),
        (pool_json({"id": "/backends/a", "weight": -1}), "weight must be"),
        (pool_json({"id": "/backends/a", "weight": "3"}), "weight must be"),
        (pool_json({"id": "/backends/a"}, {"id": "/backends/a"}), "appears twice"),
        (pool_json(*({"id": f"/backends/b{i}"} for i in range(MAX_MEMBERS + 1))), "at most 30"),
    ],
)
def test_bad_pool_json_is_refused(document, message):
    with pytest.raises(ArtifactError, match=message):
        PoolRouter.from_arm(document, rng=random.Random(0))
