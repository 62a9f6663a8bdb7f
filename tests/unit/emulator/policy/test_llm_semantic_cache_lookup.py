"""<llm-semantic-cache-lookup>: refusals, hit/miss by cosine distance, partitions, bypasses."""

from __future__ import annotations

import functools

import asyncio

import pytest
from .policy_helpers import FakeServices, api, assert_sections, chat_body, document, execute, notes, rejected

from toolkit.emulator.cache.base import CacheBackendError
from toolkit.emulator.policy.services import EmbeddingsFailure

URL = {"backend_url": "http://backend.test"}
LOOKUP = ('<{name} score-threshold="{threshold}" embeddings-backend-id="embeddings" '
          'embeddings-backend-auth="system-assigned"{extra}>{children}</{name}>')
MARK = '<set-header name="x-outbound" exists-action="override"><value>ran</value></set-header>'


def lookup(name: str = "llm-semantic-cache-lookup", threshold: str = "0.05", extra: str = "",
           children: str = "<vary-by>@(context.Subscription.Id)</vary-by>") -> str:
    return LOOKUP.format(name=name, threshold=threshold, extra=extra, children=children)


def cached_api(name: str = "llm-semantic-cache-lookup", **options: str):
    store = name.replace("lookup", "store")
    return api(inbound=lookup(name, **options), outbound=f'<base/><{store} duration="60"/>{MARK}')


def test_sections() -> None:
    assert_sections(lookup(), ("inbound",))


@pytest.mark.parametrize(("xml", "message"), [
    (lookup(threshold="1.5"), "'score-threshold': 1.5 is outside 0-1"),
    (lookup(threshold="-0.1"), "is outside 0-1"),
    (lookup(threshold="close"), "'close' is not a number"),
    (lookup(threshold="@(0.1)"), "expressions are not allowed"),
    (lookup(extra=' max-message-count="0"'), "'max-message-count': 0 is outside"),
    (lookup(extra=' ignore-system-messages="1"'), "is not true or false"),
    (lookup(children='<vary-by kind="x">a</vary-by>'), "<vary-by> attribute 'kind' is not supported"),
    (lookup(children="<partition>a</partition>"), "<partition> is not allowed inside <llm-semantic-cache-lookup>"),
    (lookup().replace("system-assigned", "user-assigned"), "'user-assigned' is not one of system-assigned"),
    (lookup().replace(' embeddings-backend-auth="system-assigned"', ""), "'embeddings-backend-auth'"),
    (lookup() + lookup(), "may appear only once in the inbound section"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


def test_the_embeddings_backend_must_exist_when_backends_are_known() -> None:
    error = rejected(document(inbound=lookup()), backends=["other"])
    assert "<llm-semantic-cache-lookup> attribute 'embeddings-backend-id': backend 'embeddings' does not exist" in str(
        error)


def test_refusals_name_the_element_and_what_is_wrong() -> None:
    blank = lookup().replace('embeddings-backend-id="embeddings"', 'embeddings-backend-id="  "')
    assert str(rejected(document(inbound=blank))).endswith(
        "line 1: <llm-semantic-cache-lookup> attribute 'embeddings-backend-id' is empty")
    assert "<other> is not allowed inside <llm-semantic-cache-lookup> (allowed: <vary-by>)" in str(rejected(document(
        inbound=lookup(children="<other/>"))))
    assert "<vary-by> may not contain child elements (found <b>)" in str(rejected(document(
        inbound=lookup(children="<vary-by>a<b/></vary-by>"))))


def test_a_miss_goes_to_the_backend_and_the_same_question_then_hits_without_it() -> None:
    services = FakeServices()
    policy = cached_api()
    miss = execute([None, policy], services, **URL)
    assert miss.response_headers.get("x-outbound") == "ran"
    assert miss.trace.find("llm-semantic-cache-lookup")[0]["message"] == "miss"
    hit = execute([None, policy], services, **URL)
    assert len(services.calls) == 1
    assert hit.response_body == miss.response_body and hit.response_status == 200
    assert "x-outbound" not in hit.response_headers  # outbound skipped on a hit...
    assert hit.trace.find("llm-semantic-cache-lookup")[0]["data"]["best_distance"] == pytest.approx(0, abs=1e-6)
    assert services.embed_calls[0] == ("embeddings", ["What is climate change?"])


def test_unrelated_prompts_and_other_partitions_miss() -> None:
    services = FakeServices()
    policy = cached_api()
    execute([None, policy], services, **URL)
    execute([None, policy], services, body=chat_body(("user", "Recommend a good pizza topping")), **URL)
    execute([None, policy], services, subscription_id="sub-2", **URL)
    assert len(services.calls) == 3


def test_a_looser_threshold_matches_a_paraphrase() -> None:
    services = FakeServices()
    execute([None, cached_api(threshold="0.3")], services, **URL)
    paraphrase = chat_body(("user", "What is climate change, please?"))
    execute([None, cached_api(threshold="0.3")], services, body=paraphrase, **URL)
    assert len(services.calls) == 1
    execute([None, cached_api(threshold="0.01")], services, body=paraphrase, **URL)
    assert len(services.calls) == 2


def test_ignore_system_messages_leaves_them_out_of_the_embedded_text() -> None:
    services = FakeServices()
    policy = cached_api(extra=' ignore-system-messages="true"')
    for system in ("You are terse.", "You are a poet."):
        execute([None, policy], services, body=chat_body(("system", system), ("user", "Why is the sky blue?")), **URL)
    assert len(services.calls) == 1
    assert services.embed_calls[0][1] == ["Why is the sky blue?"]
    keep = FakeServices()
    execute([None, cached_api()], keep, body=chat_body(("system", "Be terse."), ("user", "Hi")), **URL)
    assert keep.embed_calls[0][1] == ["Be terse.\nHi"]


def test_bypasses_leave_the_request_to_the_backend() -> None:
    long_dialog = chat_body(("user", "a"), ("assistant", "b"), ("user", "c"))
    services = FakeServices()
    execute([None, cached_api(extra=' max-message-count="2"')], services, body=long_dialog, **URL)
    execute([None, cached_api()], services, body=b"not json", **URL)
    assert services.embed_calls == [] and len(services.calls) == 2

    failing = FakeServices()
    failing.embed_error = EmbeddingsFailure("embeddings backend answered 500")
    ctx = execute([None, cached_api()], failing, **URL)
    assert ctx.response_status == 200 and len(failing.calls) == 1
    assert failing.cache_store.count(failing.now) == 0
    assert ctx.trace.find("llm-semantic-cache-lookup")[0]["message"] == "bypassed: cache unavailable"


class _DownStore:
    def lookup(self, *args: object) -> None:
        raise CacheBackendError("redis is down")


def test_a_cache_store_failure_is_a_bypass() -> None:
    services = FakeServices()
    services.cache_store = _DownStore()
    ctx = execute([None, api(inbound=lookup())], services, **URL)
    assert ctx.response_status == 200 and len(services.calls) == 1


def test_the_stores_upkeep_runs_while_the_embeddings_call_is_waited_for() -> None:
    """Rows stored since the last lookup go into the partition's graph while the request waits on the embeddings
    backend, not on its path (an add would otherwise index them itself)."""
    from toolkit.emulator.cache.memory import MemoryCacheStore

    seen: list[list[str]] = []

    class Store(MemoryCacheStore):
        upkeeps: list[str] = []

        def upkeep(self, partition: str, rows: int) -> int:
            self.upkeeps.append(partition)
            return super().upkeep(partition, rows)

    class Services(FakeServices):
        async def embed(self, backend_id: str, texts: list[str]):  # type: ignore[no-untyped-def]
            seen.append(list(self.cache_store.upkeeps))  # the call is sent: nothing ran yet
            await asyncio.sleep(0)  # its answer is awaited
            seen.append(list(self.cache_store.upkeeps))
            return await super().embed(backend_id, texts)

    services = Services()
    services.cache_store = Store()
    execute([None, cached_api()], services, **URL)
    assert seen == [[], ["sub-1"]]  # the partition: the subscription (vary-by)



_notes = functools.partial(notes, source="llm-semantic-cache-lookup")  # this element's trace events

def test_the_trace_notes_each_decision_with_what_decided_it() -> None:
    """What traces (and `toolkit validate`'s semantic-cache scenario, which reads the distances) see."""
    services = FakeServices()
    question = chat_body(("user", "Why is the sky blue?"))
    miss = execute([None, cached_api()], services, body=question, **URL)
    assert _notes(miss) == [("miss", {"best_distance": None, "score_threshold": 0.05,
                                              "entries_considered": 0, "matched": None})]
    hit = execute([None, cached_api()], services, body=question, **URL)
    ((message, data),) = _notes(hit)
    assert message == "hit" and data["best_distance"] == pytest.approx(0.0, abs=1e-6)
    assert data["entries_considered"] == 1 and data["score_threshold"] == 0.05
    assert data["matched"]["prompt"] == "Why is the sky blue?"  # the prompt the miss handed to the store
    assert set(data["matched"]) == {"key", "prompt", "stored_at"} and data["matched"]["stored_at"] == services.now
    unrelated = execute([None, cached_api()], services, body=chat_body(("user", "How do tides work?")), **URL)
    ((message, data),) = _notes(unrelated)
    assert message == "miss" and data["best_distance"] > 0.05 and data["matched"] is None

    failing = FakeServices()
    failing.embed_error = EmbeddingsFailure("embeddings backend answered 500")
    assert _notes(execute([None, cached_api()], failing, **URL)) == [
        ("bypassed: cache unavailable", {"error": "embeddings backend answered 500"})]


def test_streamed_requests_bypass_the_cache_and_others_do_not() -> None:
    services = FakeServices()
    streamed = execute([None, api(inbound=lookup())], services,
                       body=chat_body(("user", "Why is the sky blue?"), stream=True), **URL)
    assert _notes(streamed) == [("bypassed: streamed request", {})] and services.embed_calls == []
    execute([None, api(inbound=lookup())], services, body=chat_body(("user", "Why?"), stream=False), **URL)
    assert services.embed_calls[0][1] == ["Why?"]  # "stream": false is an ordinary request


def test_without_a_store_or_a_cacheable_prompt_the_lookup_is_bypassed_and_says_which() -> None:
    services = FakeServices()
    services.cache_store = None
    assert _notes(execute([None, api(inbound=lookup())], services, **URL)) == [
        ("bypassed: no cache store", {})]
    assert _notes(execute([None, api(inbound=lookup())], FakeServices(), body=b"not json", **URL)) == [
        ("bypassed: not a cacheable prompt", {})]


def test_what_is_embedded_of_each_request() -> None:
    services = FakeServices()
    policy = api(inbound=lookup(extra=' ignore-system-messages="true" max-message-count="1"'))
    execute([None, policy], services, body=chat_body(("developer", "Be terse."), ("user", "Hi")), **URL)
    assert services.embed_calls[-1][1] == ["Hi"]  # a developer message is a system message too
    execute([None, policy], services, body=chat_body(("user", "a"), ("user", "b")), **URL)  # 2 > max 1: bypassed
    assert len(services.embed_calls) == 1
    for body, embedded in ((b'{"prompt": "Tell me a joke"}', ["Tell me a joke"]), (b'{"prompt": ""}', None),
                           (b'{"prompt": 5}', None), (b'{"input": "x"}', None)):
        services = FakeServices()
        execute([None, api(inbound=lookup())], services, body=body, **URL)
        assert (services.embed_calls[0][1] if services.embed_calls else None) == embedded, body
