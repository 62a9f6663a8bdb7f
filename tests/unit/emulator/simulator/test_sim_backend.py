"""SimulatedBackend through its ASGI app (httpx.ASGITransport, no sockets)."""

from __future__ import annotations

import asyncio
import base64
import json
import math
import re
import uuid
from typing import Any

import httpx
import numpy as np
import pytest

from toolkit.emulator.simulator import BackendBehaviour, SimulatedBackend
from toolkit.emulator.tokens import estimate_prompt_tokens, estimate_text_tokens

QUESTION = [{"role": "user", "content": "What is climate change?"}]


def assert_common_headers(response: httpx.Response, region: str = "East US") -> None:
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-ms-region"] == region
    uuid.UUID(response.headers["apim-request-id"])
    int(response.headers["x-ratelimit-remaining-tokens"])
    int(response.headers["x-ratelimit-remaining-requests"])


def content_of(response: httpx.Response) -> str:
    return response.json()["choices"][0]["message"]["content"]


# -- shapes ------------------------------------------------------------------------------------------


def test_chat_completion_has_the_azure_openai_shape(sim: Any) -> None:
    response = sim.post(sim.backend(), body=sim.chat_body(max_tokens=200))
    assert response.status_code == 200
    assert_common_headers(response)
    body = response.json()
    assert set(body) == {"id", "object", "created", "model", "choices", "usage", "system_fingerprint",
                         "prompt_filter_results"}
    assert re.fullmatch(r"chatcmpl-[A-Za-z0-9]{29}", body["id"])
    assert body["object"] == "chat.completion"
    assert body["model"] == "gpt-4o-2024-08-06"  # the model's name, not the deployment's ("gpt-4o")
    assert isinstance(body["created"], int) and body["created"] > 1_600_000_000
    [choice] = body["choices"]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    usage = body["usage"]
    assert usage["prompt_tokens"] == estimate_prompt_tokens(QUESTION)
    assert usage["completion_tokens"] == estimate_text_tokens(choice["message"]["content"])
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert body["system_fingerprint"].startswith("fp_")


def test_unlimited_backend_reports_minus_one_remaining(sim: Any) -> None:
    response = sim.post(sim.backend())
    assert response.headers["x-ratelimit-remaining-tokens"] == "-1"
    assert response.headers["x-ratelimit-remaining-requests"] == "-1"


def test_content_is_deterministic_and_mentions_the_question(sim: Any) -> None:
    east = sim.backend()
    west = SimulatedBackend("openai-westus", "West US")
    first, again = sim.post_all(east, [(sim.CHAT, sim.chat_body())] * 2)
    tides = sim.chat_body("How do tides work?")
    elsewhere, other = sim.post_all(west, [(sim.CHAT, sim.chat_body()), (sim.CHAT, tides)])
    assert content_of(first) == content_of(again) == content_of(elsewhere)
    assert "What is climate change?" in content_of(first)
    assert content_of(other) != content_of(first) and "How do tides work?" in content_of(other)


def test_the_question_is_the_last_user_message(sim: Any) -> None:
    messages = [
        {"role": "system", "content": "Answer like a pirate."},
        {"role": "user", "content": "First question"},
        {"role": "assistant", "content": "First answer"},
        {"role": "user", "content": "Second question"},
    ]
    content = content_of(sim.post(sim.backend(), body={"messages": messages}))
    assert "Second question" in content and "First question" not in content


def test_max_tokens_cuts_the_answer_and_reports_length(sim: Any) -> None:
    full, cut = sim.post_all(sim.backend(), [(sim.CHAT, sim.chat_body()), (sim.CHAT, sim.chat_body(max_tokens=5))])
    assert full.json()["usage"]["completion_tokens"] > 5
    assert cut.json()["choices"][0]["finish_reason"] == "length"
    assert cut.json()["usage"]["completion_tokens"] <= 5
    assert content_of(full).startswith(content_of(cut))


def test_completion_ids_are_unique_per_response(sim: Any) -> None:
    responses = sim.post_all(sim.backend(), [(sim.CHAT, sim.chat_body())] * 200)
    assert len({r.json()["id"] for r in responses}) == 200


def test_embeddings_shape_for_a_string_and_a_list(sim: Any) -> None:
    texts = ["hello", "tides", "gateway"]
    one, many = sim.post_all(sim.backend(), [(sim.EMBEDDINGS, {"input": "hello"}), (sim.EMBEDDINGS, {"input": texts})])
    assert one.status_code == many.status_code == 200
    assert_common_headers(many)
    body = many.json()
    assert body["object"] == "list" and body["model"] == "text-embedding-ada-002"
    assert [d["index"] for d in body["data"]] == [0, 1, 2]
    assert all(d["object"] == "embedding" and len(d["embedding"]) == sim.EMBED_DIM for d in body["data"])
    np.testing.assert_allclose([d["embedding"] for d in body["data"]], sim.embed(texts))
    assert body["usage"] == {"prompt_tokens": 2 + 2 + 2, "total_tokens": 6}
    assert len(one.json()["data"]) == 1


def test_embeddings_base64_encoding_decodes_to_the_same_vector(sim: Any) -> None:
    response = sim.post(sim.backend(), sim.EMBEDDINGS, {"input": ["hello"], "encoding_format": "base64"})
    raw = base64.b64decode(response.json()["data"][0]["embedding"])
    np.testing.assert_array_equal(np.frombuffer(raw, dtype="<f4"), sim.embed(["hello"])[0])


def test_embeddings_without_an_embedder_are_not_supported(sim: Any) -> None:
    response = sim.post(sim.backend(embed=None), sim.EMBEDDINGS, {"input": "hello"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "OperationNotSupported"


# -- bad requests ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "body", "fragment"),
    [
        ("chat", b"{not json", "not valid JSON"),
        ("chat", b"[1, 2]", "JSON object"),
        ("chat", {"model": "x"}, "messages"),
        ("chat", {"messages": []}, "messages"),
        ("chat", {"messages": ["hi"]}, "role"),
        ("chat", {"messages": QUESTION, "max_tokens": 0}, "max_tokens"),
        ("chat", {"messages": QUESTION, "max_tokens": "10"}, "max_tokens"),
        ("embeddings", {"input": [1, 2]}, "input"),
        ("embeddings", {"input": []}, "input"),
        ("embeddings", {"input": "x", "encoding_format": "int8"}, "encoding_format"),
    ],
)
def test_bad_requests_get_an_azure_openai_400(sim: Any, operation: str, body: object, fragment: str) -> None:
    response = sim.post(sim.backend(), sim.path(operation), body)
    assert response.status_code == 400
    assert_common_headers(response)
    error = response.json()["error"]
    assert error["code"] == "BadRequest" and fragment in error["message"]


def test_unknown_paths_are_404_and_other_methods_405(sim: Any) -> None:
    async def scenario(client: httpx.AsyncClient) -> tuple[httpx.Response, httpx.Response]:
        return await client.post("/openai/deployments/x/completions/nope"), await client.get(sim.CHAT)

    missing, wrong_method = sim.run(sim.backend(), scenario)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "404"
    assert wrong_method.status_code == 405 and "error" in wrong_method.json()


# -- rate limits -------------------------------------------------------------------------------------


def test_tpm_counts_prompt_plus_max_tokens_and_refuses_with_retry_after(sim: Any, clock: Any) -> None:
    clock.now = 600.0
    backend = sim.backend(BackendBehaviour(tokens_per_minute=100, requests_per_minute=100), clock=clock)
    cost = estimate_prompt_tokens(QUESTION) + 40
    first = sim.post(backend, body=sim.chat_body(max_tokens=40))
    assert first.status_code == 200
    assert int(first.headers["x-ratelimit-remaining-tokens"]) == 100 - cost
    clock.now = 610.5
    refused = sim.post(backend, body=sim.chat_body(max_tokens=40))
    assert refused.status_code == 429
    assert_common_headers(refused)
    assert refused.headers["retry-after"] == "50"
    assert refused.headers["retry-after-ms"] == "49500"
    error = refused.json()["error"]
    assert error["code"] == "429"
    assert error["message"].startswith(
        "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 "
        "have exceeded token rate limit"
    )
    assert "Please retry after 50 seconds" in error["message"]
    clock.now = 660.0  # next window
    again = sim.post(backend, body=sim.chat_body(max_tokens=40))
    assert again.status_code == 200
    assert int(again.headers["x-ratelimit-remaining-tokens"]) == 100 - cost
    assert backend.stats.rate_limited == 1
    assert backend.stats.rate_limit_tokens == 2 * cost


def test_a_token_limit_alone_brings_azures_request_limit_and_both_headers_count_down(sim: Any, clock: Any) -> None:
    """6 requests per minute per 1,000 tokens per minute, as Azure OpenAI sets a deployment's RPM."""
    backend = sim.backend(BackendBehaviour(tokens_per_minute=1000), clock=clock)
    responses = sim.post_all(backend, [(sim.CHAT, sim.chat_body(max_tokens=10))] * 7)
    assert [r.status_code for r in responses] == [200] * 6 + [429]
    assert [r.headers["x-ratelimit-remaining-requests"] for r in responses[:6]] == ["5", "4", "3", "2", "1", "0"]
    tokens = [int(r.headers["x-ratelimit-remaining-tokens"]) for r in responses[:6]]
    cost = estimate_prompt_tokens(QUESTION) + 10
    assert tokens == [1000 - cost * i for i in range(1, 7)]
    assert "exceeded call rate limit" in responses[6].json()["error"]["message"]


def test_tpm_counts_actual_completion_tokens_without_max_tokens(sim: Any, clock: Any) -> None:
    backend = sim.backend(BackendBehaviour(tokens_per_minute=10_000), clock=clock)
    usage = sim.post(backend).json()["usage"]
    assert backend.stats.rate_limit_tokens == usage["total_tokens"]


def test_rpm_refuses_the_extra_request_until_the_window_rolls_over(sim: Any, clock: Any) -> None:
    backend = sim.backend(BackendBehaviour(requests_per_minute=2), clock=clock)
    responses = sim.post_all(backend, [(sim.CHAT, sim.chat_body())] * 3)
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert [r.headers["x-ratelimit-remaining-requests"] for r in responses] == ["1", "0", "0"]
    assert "exceeded call rate limit" in responses[2].json()["error"]["message"]
    assert responses[2].headers["retry-after"] == "60"
    clock.now = 60.0
    assert sim.post(backend).status_code == 200


def test_embeddings_count_against_tpm_with_their_operation_name(sim: Any, clock: Any) -> None:
    backend = sim.backend(BackendBehaviour(tokens_per_minute=3), clock=clock)
    ok, refused = sim.post_all(backend, [(sim.EMBEDDINGS, {"input": "x" * 12}), (sim.EMBEDDINGS, {"input": "y"})])
    assert ok.status_code == 200 and ok.headers["x-ratelimit-remaining-tokens"] == "0"
    assert refused.status_code == 429
    assert "Embeddings_Create Operation" in refused.json()["error"]["message"]


# -- faults ------------------------------------------------------------------------------------------


def test_injected_status_serves_the_next_n_then_normal(sim: Any) -> None:
    backend = sim.backend()
    backend.inject(429, count=2, retry_after=7)
    responses = sim.post_all(backend, [(sim.CHAT, sim.chat_body())] * 3)
    assert [r.status_code for r in responses] == [429, 429, 200]
    for refused in responses[:2]:
        assert_common_headers(refused)
        assert refused.headers["retry-after"] == "7" and refused.headers["retry-after-ms"] == "7000"
        assert set(refused.json()["error"]) == {"code", "message"}
    assert "retry-after" not in responses[2].headers


def test_injected_fault_without_retry_after_and_with_a_custom_body(sim: Any) -> None:
    backend = sim.backend()
    backend.inject(503)
    backend.inject(500, body={"error": {"code": "Custom", "message": "boom"}})
    first, second = sim.post_all(backend, [(sim.CHAT, sim.chat_body())] * 2)
    assert first.status_code == 503 and "retry-after" not in first.headers
    assert first.json()["error"]["code"] == "ServiceUnavailable"
    assert second.status_code == 500 and second.json() == {"error": {"code": "Custom", "message": "boom"}}


def test_faulted_requests_do_not_count_against_limits(sim: Any, clock: Any) -> None:
    backend = sim.backend(BackendBehaviour(requests_per_minute=1), clock=clock)
    backend.inject(500, count=3)
    statuses = [r.status_code for r in sim.post_all(backend, [(sim.CHAT, sim.chat_body())] * 4)]
    assert statuses == [500, 500, 500, 200]


# Bounds for binomial counts from a stated false-fail rate: z for a two-sided 1e-6 risk per check.
Z_1E6 = 4.892


def test_error_rate_is_statistically_sensible_and_reproducible_with_a_seed(sim: Any) -> None:
    """20 % errors over 5 seeds x 4,000 requests: each seed, and the pooled count, within z(1e-6) sd of the
    mean, which rejects a 10-point shift (10 % or 30 %) by more than 10 sd per seed."""
    rate, per_seed, seeds = 0.2, 4000, range(1, 6)
    behaviour = BackendBehaviour(error_rate=rate, error_status=503)
    body = json.dumps(sim.chat_body()).encode()
    path = "/openai/deployments/gpt-4o/chat/completions"

    def pattern(seed: int) -> list[int]:
        backend = sim.backend(behaviour, rng_seed=seed)

        async def run_all() -> list[int]:
            return [(await backend.handle("POST", path, b"api-version=2024-10-21", body)).status
                    for _ in range(per_seed)]

        return asyncio.run(run_all())

    patterns = {seed: pattern(seed) for seed in seeds}
    sd = math.sqrt(per_seed * rate * (1 - rate))
    for seed, statuses in patterns.items():
        assert set(statuses) == {200, 503}
        assert abs(statuses.count(503) - per_seed * rate) < Z_1E6 * sd, seed
        assert abs(per_seed * 0.1 - per_seed * rate) > 10 * sd  # the bound rejects a 10-point shift
    pooled = sum(statuses.count(503) for statuses in patterns.values())
    total = per_seed * len(seeds)
    assert abs(pooled - total * rate) < Z_1E6 * math.sqrt(total * rate * (1 - rate))
    assert pattern(1) == patterns[1]  # same seed, same pattern
    assert patterns[2] != patterns[1]


def test_error_rate_answers_carry_the_configured_retry_after(sim: Any) -> None:
    backend = sim.backend(BackendBehaviour(error_rate=1.0, error_status=429, error_retry_after=3))
    response = sim.post(backend)
    assert response.status_code == 429 and response.headers["retry-after"] == "3"


def test_timeout_fault_hangs_then_answers_normally(sim: Any, sleep: Any) -> None:
    backend = sim.backend(sleep=sleep)
    backend.inject_timeout(count=1, hang_seconds=12.5)
    hung, normal = sim.post_all(backend, [(sim.CHAT, sim.chat_body())] * 2)
    assert hung.status_code == normal.status_code == 200
    assert sleep.calls == [12.5]


# -- latency, reset, stats ---------------------------------------------------------------------------


def test_latency_is_base_plus_per_completion_token(sim: Any, sleep: Any) -> None:
    backend = sim.backend(BackendBehaviour(latency_base_ms=100, latency_per_token_ms=2), sleep=sleep)
    tokens = sim.post(backend).json()["usage"]["completion_tokens"]
    assert sleep.calls == [pytest.approx((100 + 2 * tokens) / 1000)]


def test_jitter_is_bounded_and_seeded(sim: Any) -> None:
    behaviour = BackendBehaviour(latency_base_ms=10, latency_jitter_ms=50)

    def delays(seed: int) -> list[float]:
        calls: list[float] = []

        async def record(seconds: float) -> None:
            calls.append(seconds)

        sim.post_all(sim.backend(behaviour, sleep=record, rng_seed=seed), [(sim.EMBEDDINGS, {"input": "x"})] * 50)
        return calls

    first = delays(7)
    assert all(0.010 <= d <= 0.060 for d in first) and len(set(first)) > 40
    assert delays(7) == first and delays(8) != first


def test_zero_latency_never_sleeps(sim: Any, sleep: Any) -> None:
    sim.post(sim.backend(sleep=sleep))
    assert sleep.calls == []


def test_reset_restores_configured_behaviour_and_clears_everything(sim: Any, clock: Any) -> None:
    configured = BackendBehaviour(error_rate=0.5)
    backend = sim.backend(configured, clock=clock)
    requests = [(sim.CHAT, sim.chat_body())] * 20
    before = [r.status_code for r in sim.post_all(backend, requests)]
    backend.update_behaviour({"requests_per_minute": 1, "error_rate": 0.0})
    backend.inject(500, count=5)
    sim.post_all(backend, requests[:2])
    backend.reset()
    assert backend.behaviour == configured
    assert backend.snapshot()["pending_faults"] == []
    assert backend.stats.requests == 0
    # RNG re-seeded too: the same error pattern as after construction.
    assert [r.status_code for r in sim.post_all(backend, requests)] == before


def test_stats_and_snapshot_are_json_ready(sim: Any, clock: Any) -> None:
    backend = sim.backend(BackendBehaviour(tokens_per_minute=1000), clock=clock)
    backend.inject(503)
    sim.post_all(backend, [(sim.CHAT, sim.chat_body())] * 2 + [(sim.EMBEDDINGS, {"input": "abcd"})])
    snapshot = json.loads(json.dumps(backend.snapshot()))
    assert snapshot["stats"]["requests_by_status"] == {"200": 2, "503": 1}
    assert snapshot["stats"]["requests"] == 3
    assert snapshot["stats"]["completion_tokens"] > 0
    assert snapshot["behaviour"]["tokens_per_minute"] == 1000
    assert snapshot["remaining_tokens"] == 1000 - backend.stats.rate_limit_tokens
    assert snapshot["name"] == "openai-eastus" and snapshot["region"] == "East US" and snapshot["down"] is False
