"""<llm-semantic-cache-store>: outbound only; stores 200 answers of missed lookups for `duration` seconds."""

from __future__ import annotations

import functools

import pytest
from .policy_helpers import FakeServices, api, assert_sections, document, execute, notes, rejected
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


def test_a_hit_carries_the_current_requests_headers_not_the_stored_ones() -> None:
    from .policy_helpers import FakeServices, api, chat_body, execute, response

    limit = ('<llm-token-limit counter-key="k" tokens-per-minute="1000" estimate-prompt-tokens="true" '
             'remaining-tokens-header-name="x-left" tokens-consumed-header-name="x-used" />')
    lookup = ('<llm-semantic-cache-lookup score-threshold="0.05" embeddings-backend-id="embeddings" '
              'embeddings-backend-auth="system-assigned" />')
    policy = api(inbound=limit + lookup, outbound='<base/><llm-semantic-cache-store duration="60"/>')
    services = FakeServices()
    services.default_answer = response(headers=[("apim-request-id", "backend-1"), ("x-ratelimit-remaining-tokens", "7"),
                                                ("x-kept", "answer header")])
    url = {"backend_url": "http://backend.test"}
    miss = execute([None, policy], services, **url)
    other = execute([None, policy], services, body=chat_body(("user", "Something else entirely")), **url)
    hit = execute([None, policy], services, **url)
    assert len(services.calls) == 2  # the third was a hit
    assert hit.response_headers.get("x-kept") == "answer header"
    assert hit.response_headers.get("apim-request-id") is None
    assert hit.response_headers.get("x-ratelimit-remaining-tokens") is None
    assert hit.response_headers.get("x-used") is None  # the hit consumed nothing
    # The remaining budget is this request's: lower than the stored answer's, as `other` spent tokens.
    assert int(hit.response_headers.get("x-left")) == int(other.response_headers.get("x-left"))
    assert int(hit.response_headers.get("x-left")) < int(miss.response_headers.get("x-left"))


def test_cacheable_headers_drop_per_request_headers_whatever_their_case() -> None:
    from types import SimpleNamespace

    from toolkit.emulator.policy.handlers.llm_semantic_cache_store import cacheable_headers
    from toolkit.emulator.policy.headers import HeaderMap

    headers = HeaderMap([("Content-Type", "application/json"), ("APIM-Request-Id", "1"), ("X-RateLimit-Remaining-Tokens", "7"),
                         ("X-Left", "90"), ("Date", "today"), ("X-Kept", "yes")])
    ctx = SimpleNamespace(response_headers=headers, per_request_headers={"X-LEFT"})
    assert cacheable_headers(ctx) == {"content-type": "application/json", "x-kept": "yes"}
    ctx.per_request_headers = set()
    assert cacheable_headers(ctx) == {"content-type": "application/json", "x-left": "90", "x-kept": "yes"}


class _QueryRecordingStore(MemoryCacheStore):
    def __init__(self) -> None:
        super().__init__()
        self.looked_up: list[object] = []
        self.stored_with: list[object] = []

    def lookup(self, *args: object) -> object:  # type: ignore[override]
        result = super().lookup(*args)  # type: ignore[arg-type]
        self.looked_up.append(result.query)
        return result

    def store(self, *args: object) -> object:  # type: ignore[override]
        self.stored_with.append(args[8] if len(args) > 8 else None)
        return super().store(*args)  # type: ignore[arg-type]


def test_the_store_gets_the_lookups_normalised_query() -> None:
    services = FakeServices()
    services.cache_store = store = _QueryRecordingStore()
    execute([None, cached_api()], services, **URL)
    assert len(store.looked_up) == 1 and store.looked_up[0] is not None
    assert store.stored_with == store.looked_up  # the same object, so the vector is not normalised twice
    execute([None, cached_api()], services, **URL)
    assert len(services.calls) == 1  # and the entry stored with it is found



_notes = functools.partial(notes, source="llm-semantic-cache-store")  # this element's trace events

def test_the_trace_says_why_an_answer_was_not_stored() -> None:
    store_only = api(outbound='<llm-semantic-cache-store duration="60"/>')
    assert _notes(execute([None, store_only], FakeServices(), **URL)) == [
        ("not stored: no cache miss to fill", {})]
    assert _notes(execute([None, cached_api()], FakeServices(answers=[500]), **URL)) == [
        ("not stored: status 500", {})]
    no_store = FakeServices()
    no_store.cache_store = None
    assert _notes(execute([None, store_only], no_store, **URL)) == [("not stored: no cache miss to fill", {})]
    failing = FakeServices()
    failing.cache_store = _FailingStore()
    assert _notes(execute([None, cached_api()], failing, **URL)) == [
        ("not stored: cache unavailable", {"error": "redis is down"})]
    assert _notes(execute([None, cached_api()], FakeServices(), **URL)) == [("stored for 60 s", {})]


def test_a_duration_of_one_second_and_one_read_from_the_request() -> None:
    services = FakeServices()
    execute([None, api(inbound=lookup(), outbound='<llm-semantic-cache-store duration="1"/>')], services, **URL)
    assert services.cache_store.count(services.now) == 1 and services.cache_store.count(services.now + 1) == 0
    per_request = '@(context.Request.Method == &quot;POST&quot; ? 30 : 1)'
    services = FakeServices()
    execute([None, api(inbound=lookup(), outbound=f'<llm-semantic-cache-store duration="{per_request}"/>')],
            services, **URL)
    assert services.cache_store.count(services.now + 29) == 1 and services.cache_store.count(services.now + 30) == 0
    failed = execute([None, api(inbound=lookup(), outbound='<llm-semantic-cache-store duration="@(0)"/>')],
                     FakeServices(), **URL)
    assert failed.response_status == 500 and failed.last_error_source == "llm-semantic-cache-store"


def test_an_answer_is_stored_once_when_two_scopes_store_it() -> None:
    from .policy_helpers import product

    services = FakeServices()
    stores = product(outbound='<base/><llm-semantic-cache-store duration="60"/>')
    ctx = execute([None, stores, cached_api()], services, **URL)
    assert ctx.response_status == 200 and services.cache_store.count(services.now) == 1
    assert [message for message, _ in _notes(ctx)] == ["not stored: no cache miss to fill", "stored for 60 s"]  # the store runs after the answer


def test_a_streamed_answer_is_not_stored() -> None:
    import numpy as np

    from toolkit.emulator.policy.handlers.llm_semantic_cache_lookup import CacheMiss
    from toolkit.emulator.policy.handlers.llm_semantic_cache_store import LlmSemanticCacheStore
    from toolkit.emulator.policy.values import IntSetting

    from .policy_helpers import ChunkStream, make_ctx, run

    services, ctx = FakeServices(), make_ctx(**URL)
    ctx.cache_lookup = CacheMiss("partition", np.ones(4), "Why is the sky blue?", None)
    ctx.response_status, ctx.response_stream = 200, ChunkStream([b"data: [DONE]\n\n"])
    run(LlmSemanticCacheStore(IntSetting(60)).run(ctx, services))
    assert _notes(ctx) == [("not stored: streamed response", {})] and ctx.after_answer == []
