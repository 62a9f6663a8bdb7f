"""<llm-semantic-cache-store>: outbound only; stores 200 answers of missed lookups for `duration` seconds."""

from __future__ import annotations

import pytest
from .policy_helpers import FakeServices, api, assert_sections, document, execute, rejected
from .test_llm_semantic_cache_lookup import cached_api, lookup

from toolkit.emulator.cache.base import CacheBackendError
from toolkit.emulator.cache.memory import MemoryCacheStore

URL = {"backend_url": "http://backend.test"}


def test_sections() -> None:
    assert_sections('<llm-semantic-cache-store duration="60"/>', ("outbound",))


@pytest.mark.parametrize(("xml", "message"), [
    ("<llm-semantic-cache-store/>", "missing the required attribute 'duration'"),
    ('<llm-semantic-cache-store duration="0"/>', "'duration': 0 is outside"),
    ('<llm-semantic-cache-store duration="1m"/>', "'1m' is not an integer"),
    ('<llm-semantic-cache-store duration="5"/><llm-semantic-cache-store duration="5"/>', "only once in the outbound"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(outbound=xml)))


def test_only_200_answers_are_stored() -> None:
    services = FakeServices(answers=[500])
    execute([None, cached_api()], services, **URL)
    assert services.cache_store.count(services.now) == 0
    execute([None, cached_api()], services, **URL)
    assert services.cache_store.count(services.now) == 1


def test_nothing_is_stored_without_a_lookup_miss() -> None:
    services = FakeServices()
    execute([None, api(outbound='<llm-semantic-cache-store duration="60"/>')], services, **URL)
    assert services.cache_store.count(services.now) == 0


def test_duration_is_the_entries_ttl() -> None:
    services = FakeServices()
    policy = cached_api()  # duration="60"
    execute([None, policy], services, **URL)
    services.now += 59
    execute([None, policy], services, **URL)
    assert len(services.calls) == 1
    services.now += 1
    execute([None, policy], services, **URL)
    assert len(services.calls) == 2


def test_duration_from_an_expression() -> None:
    services = FakeServices()
    policy = api(inbound=lookup(), outbound='<llm-semantic-cache-store duration="@(5 + 5)"/>')
    execute([None, policy], services, **URL)
    entry_count_before, now = services.cache_store.count(services.now), services.now
    assert entry_count_before == 1 and services.cache_store.count(now + 10) == 0


class _FailingStore(MemoryCacheStore):
    def store(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        raise CacheBackendError("redis is down")


def test_a_failing_store_does_not_fail_the_request() -> None:
    services = FakeServices()
    services.cache_store = _FailingStore()
    ctx = execute([None, cached_api()], services, **URL)
    assert ctx.response_status == 200
    assert ctx.trace.find("llm-semantic-cache-store")[0]["message"] == "not stored: cache unavailable"
