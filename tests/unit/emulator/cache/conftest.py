"""Fixtures for the semantic cache stores: each store kind, and a real redis-server per session."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from toolkit.emulator.cache.base import SemanticCacheStore
from toolkit.emulator.cache.memory import MemoryCacheStore
from toolkit.testing.redis_server import RedisServer, require_redis_server


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a real redis-server for this test session (skipped without one, except on CI)."""
    require_redis_server()
    server = RedisServer()
    url = server.start()
    yield url
    server.stop()


@pytest.fixture
def redis_store_factory(redis_url: str) -> Iterator[Callable[[], SemanticCacheStore]]:
    """Makes RedisCacheStore instances sharing one fresh namespace; closes them afterwards."""
    from toolkit.emulator.cache.redis_store import RedisCacheStore

    namespace = f"test:{uuid.uuid4().hex}"
    stores: list[RedisCacheStore] = []

    def make() -> RedisCacheStore:
        stores.append(RedisCacheStore(redis_url, namespace=namespace))
        return stores[-1]

    yield make
    if stores:
        stores[0].clear()
    for store in stores:
        store.close()

@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest) -> Iterator[SemanticCacheStore]:
    """Each store kind, empty."""
    if request.param == "memory":
        memory = MemoryCacheStore()
        yield memory
        memory.close()
    else:
        yield request.getfixturevalue("redis_store_factory")()
