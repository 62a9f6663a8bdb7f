"""PoolRouter edges found by mutation testing: an rng at the very top of its range, a router built without
an rng, and the redraw path when the drawn member is down."""

from __future__ import annotations

import random

from toolkit.emulator.gateway.pool import PoolMember, PoolRouter


class TopOfRange(random.Random):
    """An rng whose draws are 1.0: the edge where ``random() * total`` reaches the total (a custom or
    rounding rng); the draw must still belong to the last member with a positive weight."""

    def random(self) -> float:
        return 1.0


def everyone(name: str) -> bool:
    return True


def test_a_draw_at_the_top_of_the_range_goes_to_the_last_weighted_member_not_a_standby() -> None:
    router = PoolRouter([PoolMember("a", 0, 1), PoolMember("b", 0, 2), PoolMember("standby", 0, 0)], TopOfRange())
    assert router.choose(everyone) == "b"


def test_a_redraw_at_the_top_of_the_range_goes_to_the_last_available_weighted_member() -> None:
    members = [PoolMember("a", 0, 1), PoolMember("b", 0, 2), PoolMember("c", 0, 3), PoolMember("standby", 0, 0)]
    router = PoolRouter(members, TopOfRange())
    assert router.choose(lambda name: name != "c") == "b"  # c drawn but down: redraw among a and b


def test_a_router_built_from_json_without_an_rng_draws_with_its_own() -> None:
    document = {"properties": {"type": "Pool", "pool": {"services": [
        {"id": "/backends/a", "weight": 1}, {"id": "/backends/b", "weight": 3}]}}}
    router = PoolRouter.from_arm(document)
    picks = {router.choose(everyone) for _ in range(200)}
    assert picks == {"a", "b"}  # P(only one name in 200 draws) < 1e-24
