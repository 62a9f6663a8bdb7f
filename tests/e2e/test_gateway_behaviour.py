"""The sample gateway on the emulator behaves as configured: keys, JWT, pool, breaker, retry, cache, tokens."""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from scipy.stats import norm
from e2e_requests import API_VERSION, REPO, auth_headers, chat_body

from toolkit.config import load_config
from toolkit.emulator.access import bearer
from toolkit.emulator.cache.memory import MemoryCacheStore
from toolkit.emulator.gateway.after_answer import AfterAnswerWork
from toolkit.emulator.gateway.app import TRACE_HEADER
from toolkit.local import LocalGateway, local_gateway

PRIORITY_1 = {"East US", "North Central US"}


def _chat_url(gateway: LocalGateway) -> str:
    return gateway.chat_url("openai", "gpt-4o-mini", API_VERSION)


def _variant(tmp_path: Path, overrides: str) -> Path:
    """The sample config with an extra local environment `test` carrying ``overrides`` (YAML, indented 6)."""
    text = (REPO / "toolkit.yaml").read_text(encoding="utf-8")
    text = text.replace("environments:\n", f"environments:\n  test:\n    target: local\n    overrides:\n{overrides}", 1)
    path = tmp_path / "toolkit.yaml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "policies").symlink_to(REPO / "policies")
    return path


@pytest.fixture(scope="module")
def routing_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalGateway]:
    """The sample without cache and JWT, so every request reaches the pool."""
    path = _variant(tmp_path_factory.mktemp("routing"),
                    "      apis:\n        - {name: azure-openai, semantic_cache: null, jwt: null}\n")
    with local_gateway(load_config(path, "test", environ={}), seed=11) as gateway:
        yield gateway


@pytest.fixture
def routed(routing_gateway: LocalGateway) -> Iterator[LocalGateway]:
    routing_gateway.emulator.reset()
    yield routing_gateway


def _send(client: httpx.Client, gateway: LocalGateway, n: int, question: str = "What is climate change?") -> list[httpx.Response]:
    headers = {"api-key": gateway.subscription_key}
    return [client.post(_chat_url(gateway), json=chat_body(question), headers=headers) for _ in range(n)]


def test_subscription_key_is_required(gateway: LocalGateway, client: httpx.Client) -> None:
    missing = client.post(_chat_url(gateway), json=chat_body())
    assert missing.status_code == 401
    assert "missing subscription key" in missing.json()["message"]
    invalid = client.post(_chat_url(gateway), json=chat_body(), headers={"api-key": "not-a-key"})
    assert invalid.status_code == 401
    assert "invalid subscription key" in invalid.json()["message"]
    for refused in (missing, invalid):
        host = urlsplit(gateway.gateway_url).netloc
        assert refused.headers["www-authenticate"] == (
            f'AzureApiManagementKey realm="http://{host}/openai",name="api-key",type="header"')


def test_a_renamed_key_header_replaces_the_default_one(gateway: LocalGateway, client: httpx.Client) -> None:
    """The API renames the key header to api-key: Ocp-Apim-Subscription-Key no longer carries a key."""
    token = gateway.emulator.mint_token(audience="api://toolkit-gateway")
    default_header = client.post(_chat_url(gateway), json=chat_body(),
                                 headers={"Ocp-Apim-Subscription-Key": gateway.subscription_key,
                                          "Authorization": f"Bearer {token}"})
    assert default_header.status_code == 401
    assert "missing subscription key" in default_header.json()["message"]
    renamed = client.post(_chat_url(gateway), json=chat_body(),
                          headers={"api-key": gateway.subscription_key, "Authorization": f"Bearer {token}"})
    assert renamed.status_code == 200


# Per token kind: the answer's message (APIM's documented pattern: "JWT not present." for a missing token,
# "<validator message>. Access denied." for signature, audience and expiry failures) and the reason the
# validator records in the trace (jwt_validation.JwtValidationError.reason).
JWT_FAILURES = {
    "missing": (r"JWT not present\.", "not_present"),
    "unsigned": (r"JWT is not signed \(alg 'none'\); signed tokens are required\.", "unsigned"),
    "wrong-audience": (r"JWT audience 'api://someone-else' is not allowed\. Access denied\.", "audience"),
    "expired": (r"JWT has expired \(1[2-9]\d s ago; clock skew allowed \d+ s\)\. Access denied\.", "expired"),
    "foreign-key": (r"JWT signature is invalid\. Access denied\.", "bad_signature"),
}


@pytest.mark.parametrize("kind", list(JWT_FAILURES))
def test_jwt_is_validated(gateway: LocalGateway, client: httpx.Client, kind: str) -> None:
    issuer = gateway.emulator.issuer
    tokens = {
        "missing": None,
        "unsigned": issuer.mint_unsigned(audience="api://toolkit-gateway"),
        "wrong-audience": issuer.mint(audience="api://someone-else"),
        "expired": issuer.mint(audience="api://toolkit-gateway", expires_in=-120),
        "foreign-key": issuer.mint_with_foreign_key(audience="api://toolkit-gateway"),
    }
    headers = {"api-key": gateway.subscription_key}
    if tokens[kind]:
        headers["Authorization"] = f"Bearer {tokens[kind]}"
    response = client.post(_chat_url(gateway), json=chat_body(), headers=headers)
    assert response.status_code == 401
    message, reason = JWT_FAILURES[kind]
    assert re.fullmatch(message, response.json()["message"]), response.json()
    trace = client.get(f"{gateway.emulator.control_url}/traces/{response.headers[TRACE_HEADER]}",
                       headers=bearer(gateway.emulator.control_token)).json()
    notes = [e["message"] for e in trace["events"] if e["source"] == "validate-jwt"]
    assert f"refused: {reason}" in notes, notes
    assert "forward-request" not in [e["source"] for e in trace["events"]]  # refused before the backend


def test_trace_of_a_request(gateway: LocalGateway, client: httpx.Client) -> None:
    response = client.post(_chat_url(gateway), json=chat_body("Trace me please"), headers=auth_headers(gateway))
    assert response.status_code == 200
    assert response.headers["x-ms-region"] in PRIORITY_1
    trace_id = response.headers[TRACE_HEADER]
    trace = client.get(f"{gateway.emulator.control_url}/traces/{trace_id}", headers=bearer(gateway.emulator.control_token)).json()
    sources = [event["source"] for event in trace["events"]]
    assert sources.index("validate-jwt") < sources.index("azure-openai-semantic-cache-lookup") < sources.index("forward-request")
    attempt = next(e for e in trace["events"] if e["source"] == "forward-request")
    assert attempt["data"]["status"] == 200 and attempt["data"]["backend"] in ("openai-eastus", "openai-northcentralus")
    assert "ms" in json.dumps(attempt["data"])  # latency recorded
    lookup = next(e for e in trace["events"] if e["source"] == "azure-openai-semantic-cache-lookup")
    assert lookup["message"] == "miss"
    tokens = next(e for e in trace["events"] if e["source"] == "azure-openai-token-limit")
    assert tokens["data"]["remaining_tokens"] < 20000


def test_semantic_cache_hits_only_within_the_threshold(gateway: LocalGateway, client: httpx.Client) -> None:
    headers = auth_headers(gateway)
    first = client.post(_chat_url(gateway), json=chat_body("What is climate change?"), headers=headers)
    again = client.post(_chat_url(gateway), json=chat_body("What is climate change?"), headers=headers)
    paraphrase = client.post(_chat_url(gateway), json=chat_body("Explain climate change."), headers=headers)
    unrelated = client.post(_chat_url(gateway), json=chat_body("How do I bake sourdough bread?"), headers=headers)
    assert [r.status_code for r in (first, again, paraphrase, unrelated)] == [200] * 4
    assert again.json()["id"] == first.json()["id"]  # the stored body, unchanged
    hit = client.get(f"{gateway.emulator.control_url}/traces/{again.headers[TRACE_HEADER]}", headers=bearer(gateway.emulator.control_token)).json()
    hit_lookup = next(e for e in hit["events"] if e["source"] == "azure-openai-semantic-cache-lookup")
    assert hit_lookup["message"] == "hit" and hit_lookup["data"]["matched"]["prompt"].endswith("What is climate change?")
    # score-threshold 0.05 is a distance: the paraphrase (cosine ~0.88, distance ~0.12) must miss.
    assert paraphrase.json()["id"] != first.json()["id"]
    assert unrelated.json()["id"] != first.json()["id"]
    trace = client.get(f"{gateway.emulator.control_url}/traces/{paraphrase.headers[TRACE_HEADER]}", headers=bearer(gateway.emulator.control_token)).json()
    lookup = next(e for e in trace["events"] if e["source"] == "azure-openai-semantic-cache-lookup")
    assert lookup["message"] == "miss" and 0.05 < lookup["data"]["best_distance"] < 0.2


class _GatedStore:
    """A memory store whose stores wait (in their worker thread: not a MemoryCacheStore, so never on the loop)
    until ``gate`` opens."""

    def __init__(self) -> None:
        self.inner = MemoryCacheStore()
        self.gate = threading.Event()
        self.stored = threading.Event()

    def lookup(self, *args: Any) -> Any:
        return self.inner.lookup(*args)

    def store(self, *args: Any) -> Any:
        assert self.gate.wait(30)
        entry = self.inner.store(*args)
        self.stored.set()
        return entry

    def clear(self) -> None:
        self.inner.clear()


def test_the_answer_leaves_before_its_cache_store_and_a_repeat_waits_for_the_store(
    gateway: LocalGateway, client: httpx.Client
) -> None:
    """The store runs after the answer (APIM's cache stores are asynchronous), yet a repeat always finds it."""
    services = gateway.emulator.gateway.services
    original, gated = services.cache_store, _GatedStore()
    services.cache_store = gated
    try:
        first = client.post(_chat_url(gateway), json=chat_body("Is the store after the answer?"),
                            headers=auth_headers(gateway))
        assert first.status_code == 200 and not gated.stored.is_set()  # answered while its store is held

        def repeat() -> httpx.Response:
            with httpx.Client(timeout=30.0) as other:
                return other.post(_chat_url(gateway), json=chat_body("Is the store after the answer?"),
                                  headers=auth_headers(gateway))

        with ThreadPoolExecutor(1) as pool:
            again = pool.submit(repeat)
            time.sleep(0.3)
            assert not again.done()  # its lookup waits for the held store
            gated.gate.set()
            second = again.result(timeout=30)
        assert second.status_code == 200 and second.json()["id"] == first.json()["id"]  # a hit on the stored answer
        trace = client.get(f"{gateway.emulator.control_url}/traces/{first.headers[TRACE_HEADER]}",
                           headers=bearer(gateway.emulator.control_token)).json()
        store = next(e for e in trace["events"] if e["source"] == "azure-openai-semantic-cache-store")
        assert store["message"] == "stored for 120 s"  # the store's outcome joins the first request's trace
    finally:
        gated.gate.set()
        services.cache_store = original


def test_a_cache_store_is_held_until_the_gateway_next_calls_a_backend(
    gateway: LocalGateway, client: httpx.Client
) -> None:
    """After-answer work waits for the gateway's next wait on the network: the next request's embeddings call."""
    runtime = gateway.emulator.gateway
    store, clock = runtime.services.cache_store, runtime.services.clock
    original = runtime.after_answer
    runtime.after_answer = AfterAnswerWork(latest=600.0)  # only a backend call starts the held work
    try:
        before = store.count(clock())
        first = client.post(_chat_url(gateway), json=chat_body("Is this store held?"), headers=auth_headers(gateway))
        assert first.status_code == 200 and store.count(clock()) == before  # answered; its store held
        other = client.post(_chat_url(gateway), json=chat_body("Which call starts it?"), headers=auth_headers(gateway))
        assert other.status_code == 200 and store.count(clock()) == before + 1  # this one's embeddings call did
        again = client.post(_chat_url(gateway), json=chat_body("Is this store held?"), headers=auth_headers(gateway))
        assert again.json()["id"] == first.json()["id"]  # a hit on the stored answer
    finally:  # the replaced one holds nothing: the hit stored nothing, and its embeddings call started the rest
        runtime.after_answer = original


def test_a_looser_threshold_lets_paraphrases_hit(tmp_path: Path, client: httpx.Client) -> None:
    path = _variant(tmp_path, "      apis:\n        - name: azure-openai\n          jwt: null\n"
                              "          semantic_cache: {score_threshold: 0.2}\n")
    with local_gateway(load_config(path, "test", environ={})) as gateway:
        headers = {"api-key": gateway.subscription_key}
        url = _chat_url(gateway)
        first = client.post(url, json=chat_body("What is climate change?"), headers=headers).json()["id"]
        paraphrase = client.post(url, json=chat_body("Explain climate change."), headers=headers).json()["id"]
        unrelated = client.post(url, json=chat_body("How do I bake sourdough bread?"), headers=headers).json()["id"]
    assert paraphrase == first
    assert unrelated != first


SPLIT_SEEDS = (11, 23, 37)
SPLIT_DRAWS = 600  # per seed
SPLIT_FALSE_FAIL = 1e-4  # chance that a correct 50/50 router fails this test, all checks together


def test_priority_one_takes_all_traffic_split_by_weight(client: httpx.Client, tmp_path: Path) -> None:
    """50/50 weights split 600 requests per seed over 3 seeds evenly; a 60/40 split fails.

    Bounds come from a false-fail rate of 1e-4 for the whole test (Bonferroni over 3 per-seed checks
    and 1 pooled check: z = 4.21 each, two-sided): per seed 300 +- 52 of 600, pooled 900 +- 89 of 1,800
    (45.0% to 55.0%). A router that sends 60% one way averages 1,080 pooled, 4.4 of its sd beyond the
    bound, so it fails with probability > 0.99999; the test asserts that margin itself. The token limit
    is off so that 600 requests fit in one emulated minute.
    """
    z = float(norm.isf(SPLIT_FALSE_FAIL / 4 / 2))
    east = []
    for seed in SPLIT_SEEDS:
        (tmp_path / str(seed)).mkdir()
        path = _variant(tmp_path / str(seed),
                        "      apis:\n        - {name: azure-openai, semantic_cache: null, jwt: null, token_limit: null}\n")
        with local_gateway(load_config(path, "test", environ={}), seed=seed) as gateway:
            responses = _send(client, gateway, SPLIT_DRAWS)
        assert [r.status_code for r in responses] == [200] * SPLIT_DRAWS
        regions = Counter(r.headers["x-ms-region"] for r in responses)
        assert set(regions) == PRIORITY_1, (seed, regions)  # West US (priority 2) gets nothing while priority 1 is healthy
        east.append(regions["East US"])
    per_seed_bound = z * math.sqrt(SPLIT_DRAWS * 0.25)
    for seed, count in zip(SPLIT_SEEDS, east):
        assert abs(count - SPLIT_DRAWS / 2) <= per_seed_bound, (seed, count, per_seed_bound)
    total = SPLIT_DRAWS * len(SPLIT_SEEDS)
    pooled_bound = z * math.sqrt(total * 0.25)
    assert abs(sum(east) - total / 2) <= pooled_bound, (east, pooled_bound)
    # The pooled bound rejects a 10-point shift: 60% lies more than 4 of its own sd beyond it.
    assert total * 0.6 - (total / 2 + pooled_bound) > 4 * math.sqrt(total * 0.6 * 0.4)


def test_breakers_trip_and_traffic_spills_to_priority_two(routed: LocalGateway, client: httpx.Client) -> None:
    emulator = routed.emulator
    for name in ("openai-eastus", "openai-northcentralus"):
        emulator.farm.backend(name).inject(429, count=100)
    responses = _send(client, routed, 6)
    # Retry (count 2) re-selects from the pool; after 3 x 429 each breaker trips, and West US answers.
    assert all(r.status_code == 200 for r in responses[2:]), [r.status_code for r in responses]
    assert responses[-1].headers["x-ms-region"] == "West US"
    states = client.get(f"{emulator.control_url}/breakers", headers=bearer(emulator.control_token)).json()["breakers"]
    assert states["openai-eastus"]["state"] == "open" and states["openai-northcentralus"]["state"] == "open"
    assert states["openai-westus"]["state"] == "closed"
    trace = client.get(f"{emulator.control_url}/traces/{responses[0].headers[TRACE_HEADER]}", headers=bearer(emulator.control_token)).json()
    attempts = [e for e in trace["events"] if e["source"] == "forward-request"]
    assert 1 <= len(attempts) <= 3  # count="2": at most three attempts

    for name in ("openai-eastus", "openai-northcentralus"):
        emulator.farm.backend(name).reset()
    still_open = _send(client, routed, 3)
    assert {r.headers["x-ms-region"] for r in still_open} == {"West US"}
    client.post(f"{emulator.control_url}/clock", json={"advance": 61}, headers=bearer(emulator.control_token))  # tripDuration PT1M
    recovered = Counter(r.headers["x-ms-region"] for r in _send(client, routed, 20))
    assert set(recovered) <= PRIORITY_1 and sum(recovered.values()) == 20


def test_exhausted_pool_answers_503_without_retry_after(routed: LocalGateway, client: httpx.Client) -> None:
    for name in ("openai-eastus", "openai-northcentralus", "openai-westus"):
        routed.emulator.farm.backend(name).inject(429, count=100)
    responses = _send(client, routed, 8)
    last = responses[-1]
    assert last.status_code == 503
    assert "Retry-After" not in last.headers
    assert last.json()["statusCode"] == 503
    assert last.headers["x-gateway-error"]  # the on-error fragment names the gateway's error


def test_backend_down_is_a_connection_failure(routed: LocalGateway, client: httpx.Client) -> None:
    emulator = routed.emulator
    for name in ("openai-eastus", "openai-northcentralus"):
        client.post(f"{emulator.control_url}/backends/{name}/down", json={"down": True}, headers=bearer(emulator.control_token))
    direct = emulator.farm.urls["openai-eastus"]
    with pytest.raises(httpx.ConnectError):
        client.get(direct)
    response = _send(client, routed, 1)[0]
    assert response.status_code == 500  # no errorReasons on the rule: the failure is not retried or tripped
    assert response.headers["x-gateway-error"] == "BackendConnectionFailure"
    trace = client.get(f"{emulator.control_url}/traces/{response.headers[TRACE_HEADER]}", headers=bearer(emulator.control_token)).json()
    assert any("BackendConnectionFailure" in json.dumps(e) for e in trace["events"])
    client.post(f"{emulator.control_url}/backends/openai-eastus/down", json={"down": False}, headers=bearer(emulator.control_token))
    client.post(f"{emulator.control_url}/backends/openai-northcentralus/down", json={"down": False}, headers=bearer(emulator.control_token))
    assert _send(client, routed, 1)[0].status_code == 200


def test_token_limit_429_then_window_rolls(tmp_path: Path, client: httpx.Client) -> None:
    path = _variant(tmp_path, "      apis:\n        - name: azure-openai\n          jwt: null\n          semantic_cache: null\n"
                              "          token_limit: {tokens_per_minute: 300}\n")
    with local_gateway(load_config(path, "test", environ={})) as gateway:
        statuses = [r.status_code for r in _send(client, gateway, 12)]
        assert statuses[0] == 200 and 429 in statuses
        refused = next(r for r in _send(client, gateway, 1))
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        client.post(f"{gateway.emulator.control_url}/clock", json={"advance": 61}, headers=bearer(gateway.emulator.control_token))
        assert _send(client, gateway, 1)[0].status_code == 200


def test_state_file_survives_a_restart(tmp_path: Path, client: httpx.Client) -> None:
    from toolkit.emulator.runtime import Emulator

    path = _variant(tmp_path, "      apis:\n        - {name: azure-openai, semantic_cache: null, jwt: null}\n")
    state = tmp_path / "state.json"
    config = load_config(path, "test", environ={})
    with local_gateway(config, state_file=state) as gateway:
        assert _send(client, gateway, 1)[0].status_code == 200
    with Emulator.from_config(config, state_file=state) as emulator:
        key = emulator.create_subscription("again")
        url = f"{emulator.gateway_url}/openai/openai/deployments/d/chat/completions?api-version={API_VERSION}"
        response = client.post(url, json=chat_body(), headers={"api-key": key})
        assert response.status_code == 200 and response.headers["x-ms-region"] in PRIORITY_1


def test_redis_cache_store_through_the_gateway(tmp_path: Path, client: httpx.Client) -> None:
    from toolkit.testing.redis_server import require_redis_server, running_redis_server

    require_redis_server()
    path = _variant(tmp_path, "      apis:\n        - {name: azure-openai, jwt: null}\n")
    with running_redis_server() as redis_url:
        with local_gateway(load_config(path, "test", environ={}), cache_url=redis_url) as gateway:
            first, again = _send(client, gateway, 2, "What is the capital of France?")
            assert again.json()["id"] == first.json()["id"]
            import redis

            assert redis.Redis.from_url(redis_url).dbsize() > 0  # entries live in Redis


def test_traces_never_carry_keys_or_tokens(gateway: LocalGateway, client: httpx.Client) -> None:
    headers = auth_headers(gateway)
    token = headers["Authorization"].split()[1]
    client.post(_chat_url(gateway), json=chat_body(), headers=headers)
    client.post(_chat_url(gateway) + f"&subscription-key={gateway.subscription_key}", json=chat_body("Query key"),
                headers={"Authorization": headers["Authorization"]})
    dump = client.get(f"{gateway.emulator.control_url}/traces?limit=50", headers=bearer(gateway.emulator.control_token)).text
    assert gateway.subscription_key not in dump
    assert token not in dump
