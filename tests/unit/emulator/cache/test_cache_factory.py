"""open_cache_store picks the store from a URL and never echoes secrets."""

from __future__ import annotations

import pytest

from toolkit.emulator.cache.base import CacheConfigError
from toolkit.emulator.cache.factory import open_cache_store
from toolkit.emulator.cache.memory import MemoryCacheStore
from toolkit.errors import EXIT_BAD_INPUT


@pytest.mark.parametrize("url", [None, "memory", " Memory "])
def test_memory_by_default(url: str | None) -> None:
    assert isinstance(open_cache_store(url), MemoryCacheStore)


@pytest.mark.redis
def test_redis_url_opens_a_redis_store(redis_url: str) -> None:
    from toolkit.emulator.cache.redis_store import RedisCacheStore

    store = open_cache_store(redis_url)
    try:
        assert isinstance(store, RedisCacheStore)
    finally:
        store.close()


@pytest.mark.parametrize(
    ("url", "scheme"),
    [("http://admin:hunter2@cache:6379", "'http'"), ("memcached://cache", "'memcached'"),
     ("hunter2:x@cache", "'(none)'"), ("", "'(none)'")],
)
def test_unknown_scheme_is_named_without_secrets(url: str, scheme: str) -> None:
    with pytest.raises(CacheConfigError) as info:
        open_cache_store(url)
    assert scheme in str(info.value)
    assert "hunter2" not in str(info.value) and "admin" not in str(info.value)
    assert info.value.exit_code == EXIT_BAD_INPUT
