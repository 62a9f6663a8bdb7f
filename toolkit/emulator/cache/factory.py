"""Open the semantic cache store a URL names: memory (default) or a Redis server."""

from __future__ import annotations

from urllib.parse import urlsplit

from toolkit.emulator.cache.base import CacheConfigError, SemanticCacheStore

_REDIS_SCHEMES = ("redis", "rediss", "unix")


def open_cache_store(url: str | None) -> SemanticCacheStore:
    """None or "memory" -> MemoryCacheStore; redis://, rediss://, unix:// -> RedisCacheStore."""
    if url is None or url.strip().lower() == "memory":
        from toolkit.emulator.cache.memory import MemoryCacheStore

        return MemoryCacheStore()
    text = url.strip()
    # Without "://" whatever precedes a colon could be a secret, so it is not a scheme to show.
    scheme = urlsplit(text).scheme.lower() if "://" in text else ""
    if scheme in _REDIS_SCHEMES:
        from toolkit.emulator.cache.redis_store import RedisCacheStore

        return RedisCacheStore(text)
    # Name only the scheme: the rest of the URL may hold a password.
    raise CacheConfigError(
        f"unsupported semantic cache URL scheme {scheme or '(none)'!r}",
        hint="use 'memory' or a Redis URL such as redis://127.0.0.1:6379/0",
    )
