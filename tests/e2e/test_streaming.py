"""`stream: true` end to end with the openai SDK through the gateway: server-sent events relayed without
buffering, usage last with include_usage, the token limit on streamed calls, breakers fed by streamed 429s."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from e2e_requests import API_VERSION, REPO, auth_headers

from toolkit.config import load_config
from toolkit.emulator.access import bearer
from toolkit.emulator.gateway.app import TRACE_HEADER
from toolkit.emulator.simulator import BackendBehaviour
from toolkit.local import LocalGateway, local_gateway
from toolkit.emulator.tokens import estimate_prompt_tokens, estimate_text_tokens

MESSAGES = [{"role": "user", "content": "Tell me about gateways."}]


def _sdk(gateway: LocalGateway, headers: dict[str, str] | None = None) -> openai.AzureOpenAI:
    headers = dict(headers or {})
    key = headers.pop("api-key", gateway.subscription_key)
    return openai.AzureOpenAI(azure_endpoint=f"{gateway.gateway_url}/openai", api_key=key, api_version=API_VERSION,
                              default_headers=headers, max_retries=0, timeout=30)


def _variant(tmp_path: Path, api_overrides: str) -> Path:
    text = (REPO / "toolkit.yaml").read_text(encoding="utf-8")
    overrides = f"      apis:\n        - name: azure-openai\n{api_overrides}"
    text = text.replace("environments:\n", f"environments:\n  test:\n    target: local\n    overrides:\n{overrides}", 1)
    path = tmp_path / "toolkit.yaml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "policies").symlink_to(REPO / "policies")
    return path


def test_a_streamed_chat_through_the_sample_gateway(gateway: LocalGateway) -> None:
    client = _sdk(gateway, auth_headers(gateway))
    whole = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    chunks = list(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True,
                                                 stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    assert chunks[0].prompt_filter_results[0]["prompt_index"] == 0  # Azure's first event
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == whole.usage.total_tokens
    assert all(c.model == "gpt-4o-mini-2024-07-18" for c in chunks[1:])
    # A streamed request bypasses the semantic cache (its answer would be one JSON document).
    again = list(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in again if c.choices) == text


def test_the_gateway_relays_events_as_they_arrive(tmp_path: Path) -> None:
    """With 40 ms per token, the first event reaches the client long before the last one is produced."""
    path = _variant(tmp_path, "          jwt: null\n          semantic_cache: null\n")
    config = load_config(path, "test", environ={})
    with local_gateway(config) as gateway:
        for backend in gateway.emulator.farm.backends.values():
            backend.set_behaviour(BackendBehaviour(latency_per_token_ms=40))
        url = gateway.chat_url("openai", "gpt-4o-mini", API_VERSION)
        with httpx.Client(timeout=30) as client, client.stream(
                "POST", url, json={"messages": MESSAGES, "stream": True},
                headers={"api-key": gateway.subscription_key}) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            assert "content-length" not in response.headers
            started = time.perf_counter()
            arrivals = []
            for _ in response.iter_raw():
                arrivals.append(time.perf_counter() - started)
        # Buffering would deliver everything at once; relayed, the events spread over the answer's time.
        assert len(arrivals) > 5
        assert arrivals[-1] - arrivals[0] > 0.5


def test_a_token_limit_refuses_a_streamed_call_with_429_and_counts_streamed_usage(tmp_path: Path) -> None:
    path = _variant(tmp_path, "          jwt: null\n          semantic_cache: null\n"
                              "          token_limit: {tokens_per_minute: 150, estimate_prompt_tokens: false}\n")
    with local_gateway(load_config(path, "test", environ={})) as gateway:
        clock = gateway.emulator.clock
        clock.advance(61 - clock() % 60)  # early in a minute: all requests count in one window
        client = _sdk(gateway)
        limiter = gateway.emulator.gateway.services.token_limiter
        chunks = list(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        used = sum(w["used"] for w in limiter.snapshot()["tokens_per_minute"].values())
        # Streamed: prompt estimated (although estimate-prompt-tokens is false) plus the relayed completion.
        assert used == estimate_prompt_tokens(MESSAGES) + estimate_text_tokens(text)
        refused = None
        for _ in range(10):
            try:
                list(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
            except openai.RateLimitError as exc:
                refused = exc
                break
        assert refused is not None and refused.status_code == 429
        assert int(refused.response.headers["retry-after"]) >= 1


def test_streamed_429s_trip_the_breakers_and_traffic_moves_on(tmp_path: Path) -> None:
    path = _variant(tmp_path, "          jwt: null\n          semantic_cache: null\n")
    with local_gateway(load_config(path, "test", environ={}), seed=3) as gateway:
        emulator = gateway.emulator
        for name in ("openai-eastus", "openai-northcentralus"):
            emulator.farm.backend(name).inject(429, count=100)
        client = _sdk(gateway)
        outcomes = []
        for _ in range(6):
            try:
                raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES,
                                                                       stream=True)
            except openai.RateLimitError:
                outcomes.append(429)  # retry (count 2) spent on 429s before both breakers had tripped
                continue
            assert raw.headers["content-type"].startswith("text/event-stream")
            assert "".join(c.choices[0].delta.content or "" for c in raw.parse() if c.choices)
            outcomes.append(raw.headers["x-ms-region"])
        with httpx.Client() as http:
            states = http.get(f"{emulator.control_url}/breakers", headers=bearer(emulator.control_token)).json()["breakers"]
        assert states["openai-eastus"]["state"] == "open" and states["openai-northcentralus"]["state"] == "open"
        assert states["openai-eastus"]["trips"] == states["openai-northcentralus"]["trips"] == 1
        assert outcomes[0] == 429 and outcomes[-3:] == ["West US"] * 3


def test_the_trace_marks_a_streamed_response(gateway: LocalGateway) -> None:
    with httpx.Client(timeout=30) as client:
        url = gateway.chat_url("openai", "gpt-4o-mini", API_VERSION)
        response = client.post(url, json={"messages": MESSAGES, "stream": True}, headers=auth_headers(gateway))
        trace = client.get(f"{gateway.emulator.control_url}/traces/{response.headers[TRACE_HEADER]}",
                           headers=bearer(gateway.emulator.control_token)).json()
    assert response.text.endswith("data: [DONE]\n\n")
    assert trace.get("streamed") is True
    lookup = [e for e in trace["events"] if e["source"] == "azure-openai-semantic-cache-lookup"]
    assert lookup[0]["message"] == "bypassed: streamed request"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    yield


def test_a_client_that_goes_away_mid_stream_is_charged_for_what_was_relayed(tmp_path: Path) -> None:
    """The gateway stops relaying when the client hangs up and settles the token limit at once."""
    path = _variant(tmp_path, "          jwt: null\n          semantic_cache: null\n"
                              "          token_limit: {tokens_per_minute: 100000, estimate_prompt_tokens: true}\n")
    with local_gateway(load_config(path, "test", environ={})) as gateway:
        clock = gateway.emulator.clock
        clock.advance(61 - clock() % 60)
        limiter = gateway.emulator.gateway.services.token_limiter

        def used() -> int:
            return sum(w["used"] for w in limiter.snapshot()["tokens_per_minute"].values())

        url = gateway.chat_url("openai", "gpt-4o-mini", API_VERSION)
        headers = {"api-key": gateway.subscription_key}
        with httpx.Client(timeout=30) as client:
            whole = client.post(url, json={"messages": MESSAGES}, headers=headers).json()["usage"]
            before = used()
            for backend in gateway.emulator.farm.backends.values():
                backend.set_behaviour(BackendBehaviour(latency_per_token_ms=200))  # the whole answer: > 8 s
            with client.stream("POST", url, json={"messages": MESSAGES, "stream": True}, headers=headers) as response:
                for raw in response.iter_raw():
                    if b'"content":"' in raw and b'"content":""' not in raw:
                        break  # some text relayed: hang up
        deadline = time.monotonic() + 4  # well before the backend would have finished the answer
        while used() - before == whole["prompt_tokens"] and time.monotonic() < deadline:
            time.sleep(0.05)
        charged = used() - before
        assert whole["prompt_tokens"] < charged < whole["total_tokens"]  # settled early, for the part relayed
