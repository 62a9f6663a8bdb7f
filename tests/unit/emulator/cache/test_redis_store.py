"""RedisCacheStore against a real redis-server: real TTLs, sharing between instances, the mirror."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest
import redis
from toolkit.testing.cache_vectors import QUERY, at_distance

from toolkit.emulator.cache.base import CacheBackendError
from toolkit.emulator.cache.redis_store import RedisCacheStore, redact_url
from toolkit.errors import InputError

pytestmark = pytest.mark.redis

NOW = 1_000.0
Factory = Callable[[], RedisCacheStore]


def put(store: RedisCacheStore, distance: float, prompt: str, *, axis: int = 1,
        ttl: float = 60.0, partition: str = "sub-1"):
    return store.store(partition, at_distance(distance, axis), prompt, b"{}", {}, 200, ttl, NOW)


@pytest.fixture
def raw(redis_url: str):
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def test_redis_itself_expires_the_entry(redis_store_factory: Factory, raw: redis.Redis) -> None:
    store = redis_store_factory()
    entry = put(store, 0.01, "short", axis=1, ttl=1.0)
    put(store, 0.20, "long", axis=2, ttl=60.0)  # keeps the partition's stream alive
    key = f"{store.namespace}:e:{entry.key}"
    assert 0 < raw.pttl(key) <= 1000
    assert store.lookup("sub-1", QUERY, 0.05, NOW).entry.prompt == "short"  # mirror holds it
    time.sleep(1.2)  # the one real wait: Redis's own TTL, not the injected clock
    assert raw.exists(key) == 0
    # Logically still alive at NOW + 0.5, but gone from Redis: never returned, and forgotten.
    result = store.lookup("sub-1", QUERY, 0.05, NOW + 0.5)
    assert not result.hit and result.entries_considered == 1
    assert result.best_distance == pytest.approx(0.20, abs=1e-5)
    assert store.count(NOW) == 1


def test_mirror_resets_when_the_partition_stream_vanishes(
    redis_store_factory: Factory, raw: redis.Redis
) -> None:
    store = redis_store_factory()
    put(store, 0.01, "short")
    assert store.lookup("sub-1", QUERY, 0.05, NOW).hit
    raw.delete(*raw.keys(f"{store.namespace}:*"))  # as when the last entry and its stream expire
    # Threshold 0 so nothing is confirmed: only the vanished stream tells the mirror to reset.
    result = store.lookup("sub-1", QUERY, 0.0, NOW)
    assert (result.hit, result.best_distance, result.entries_considered) == (False, None, 0)


def test_entry_gone_from_redis_falls_back_to_next_best(
    redis_store_factory: Factory, raw: redis.Redis
) -> None:
    store = redis_store_factory()
    best = put(store, 0.01, "best", axis=1)
    put(store, 0.03, "second", axis=2)
    assert store.lookup("sub-1", QUERY, 0.05, NOW).entry.prompt == "best"
    raw.delete(f"{store.namespace}:e:{best.key}")  # as if Redis had expired it early
    result = store.lookup("sub-1", QUERY, 0.05, NOW)
    assert result.entry.prompt == "second" and result.entries_considered == 1
    # The dead entry's stream message is deleted, so a fresh instance never loads it.
    assert redis_store_factory().lookup("sub-1", QUERY, 0.05, NOW).entries_considered == 1


def test_two_instances_see_each_others_entries(redis_store_factory: Factory) -> None:
    a, b = redis_store_factory(), redis_store_factory()
    put(a, 0.01, "from a", axis=1, partition="pa")
    put(b, 0.01, "from b", axis=2, partition="pb")
    assert b.lookup("pa", QUERY, 0.05, NOW).entry.prompt == "from a"
    assert a.lookup("pb", QUERY, 0.05, NOW).entry.prompt == "from b"
    assert a.count(NOW) == b.count(NOW) == 2


def test_mirror_refreshes_after_another_instance_stores(redis_store_factory: Factory) -> None:
    a, b = redis_store_factory(), redis_store_factory()
    put(a, 0.20, "far", axis=1)
    first = a.lookup("sub-1", QUERY, 0.05, NOW)  # loads a's mirror
    assert not first.hit and first.best_distance == pytest.approx(0.20, abs=1e-5)
    put(b, 0.02, "close", axis=2)
    second = a.lookup("sub-1", QUERY, 0.05, NOW)
    assert second.hit and second.entry.prompt == "close" and second.entries_considered == 2


def test_clear_by_another_instance_resets_the_mirror(redis_store_factory: Factory) -> None:
    a, b = redis_store_factory(), redis_store_factory()
    put(a, 0.01, "old")
    assert a.lookup("sub-1", QUERY, 0.05, NOW).hit
    b.clear()
    # Threshold 0 so nothing is confirmed: only the epoch tells a's mirror to drop "old".
    assert a.lookup("sub-1", QUERY, 0.0, NOW).best_distance is None
    put(b, 0.02, "new", axis=2)
    result = a.lookup("sub-1", QUERY, 0.05, NOW)
    assert result.entry.prompt == "new" and result.entries_considered == 1


def test_partition_stream_outlives_its_longest_entry(
    redis_store_factory: Factory, raw: redis.Redis
) -> None:
    store = redis_store_factory()
    put(store, 0.1, "long", ttl=300.0)
    put(store, 0.1, "short", ttl=5.0)
    (stream,) = raw.keys(f"{store.namespace}:s:*")
    assert 290_000 < raw.pttl(stream) <= 300_000


def test_namespaces_are_isolated(redis_url: str) -> None:
    one = RedisCacheStore(redis_url, namespace="iso:one")
    two = RedisCacheStore(redis_url, namespace="iso:two")
    try:
        put(one, 0.0, "one")
        assert not two.lookup("sub-1", QUERY, 0.05, NOW).hit
        assert two.count(NOW) == 0
    finally:
        one.clear()
        one.close()
        two.close()


def test_many_entries_page_into_the_mirror(redis_store_factory: Factory) -> None:
    a, b = redis_store_factory(), redis_store_factory()
    for i in range(2_100):  # more than one XRANGE page
        put(a, 0.3 + (i % 50) / 1000, f"p{i}", axis=1 + i % 300)
    put(a, 0.001, "needle", axis=383)
    result = b.lookup("sub-1", QUERY, 0.05, NOW)
    assert result.entry.prompt == "needle" and result.entries_considered == 2_101


def test_unreachable_server_is_a_clear_error_without_the_password() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(CacheBackendError) as info:
        RedisCacheStore(f"redis://cacheuser:s3cret-pw@127.0.0.1:{port}/0")
    assert f"127.0.0.1:{port}" in str(info.value)
    assert "s3cret-pw" not in str(info.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [("redis://u:pw@h:6379/0", "redis://u:***@h:6379/0"),
     ("rediss://:pw@h/1", "rediss://:***@h/1"),
     ("redis://h:6379/0", "redis://h:6379/0"),
     ("redis://u@h:6379/0", "redis://u@h:6379/0"),
     ("redis://h:6379/0?password=pw-in-query", "redis://h:6379/0?***"),
     ("unix:///tmp/redis.sock?password=pw-in-query", "unix:///tmp/redis.sock?***"),
     ("redis://:pw/with-slash@h:6379/0", "(a URL that does not parse, not shown)"),
     ("redis://:pw#with-hash@h:6379/0", "(a URL that does not parse, not shown)"),
     ("redis://:7/pw-after-slash@h:6379/0", "(a URL that does not parse, not shown)")],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_a_redis_url_that_does_not_parse_is_bad_input_without_the_password() -> None:
    """An Azure Redis key is base64: its '/' unencoded made redis-py's ValueError (quoting it) an exit 70."""
    with pytest.raises(InputError) as info:
        RedisCacheStore("redis://:SECRET-CANARY/R3@127.0.0.1:1/0")
    assert "SECRET-CANARY" not in str(info.value) and "does not parse" in str(info.value)
