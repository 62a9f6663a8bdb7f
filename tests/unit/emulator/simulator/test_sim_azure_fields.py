"""The simulated deployment answers with Azure OpenAI's fields (inference spec 2024-10-21): model names,
n choices, content-filter results, streamed chunks, operations the model cannot do, embedding dimensions."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from toolkit.emulator.simulator import BackendBehaviour
from toolkit.emulator.tokens import estimate_text_tokens

SAFE = {"filtered": False, "severity": "safe"}
FILTERS = {"hate": SAFE, "self_harm": SAFE, "sexual": SAFE, "violence": SAFE}


def _chat(deployment: str) -> str:
    return f"/openai/deployments/{deployment}/chat/completions?api-version=2024-10-21"


def _embeddings(deployment: str) -> str:
    return f"/openai/deployments/{deployment}/embeddings?api-version=2024-10-21"


def _events(text: str) -> list[Any]:
    assert text.endswith("data: [DONE]\n\n")
    blocks = [block for block in text.split("\n\n") if block]
    assert all(block.startswith("data: ") for block in blocks)
    return [json.loads(block[len("data: "):]) for block in blocks[:-1]]


@pytest.mark.parametrize(("deployment", "model"), [
    ("gpt-4o-mini", "gpt-4o-mini-2024-07-18"),
    ("gpt-4o-mini-eastus", "gpt-4o-mini-2024-07-18"),
    ("gpt-4o", "gpt-4o-2024-08-06"),
    ("chat", "gpt-4o-mini-2024-07-18"),
])
def test_model_is_the_models_name_not_the_deployments(sim: Any, deployment: str, model: str) -> None:
    assert sim.post(sim.backend(), _chat(deployment)).json()["model"] == model


def test_n_choices_each_with_content_filter_results(sim: Any) -> None:
    body = sim.post(sim.backend(), body=sim.chat_body(n=3)).json()
    assert [choice["index"] for choice in body["choices"]] == [0, 1, 2]
    assert all(choice["content_filter_results"] == FILTERS for choice in body["choices"])
    contents = [choice["message"]["content"] for choice in body["choices"]]
    assert len(set(contents)) > 1  # samples of one prompt differ
    assert body["usage"]["completion_tokens"] == sum(estimate_text_tokens(c) for c in contents)
    [prompt] = body["prompt_filter_results"]
    assert prompt["prompt_index"] == 0
    assert prompt["content_filter_results"] == {**FILTERS, "jailbreak": {"filtered": False, "detected": False}}


@pytest.mark.parametrize(("deployment", "max_tokens", "status"), [
    ("gpt-4o-mini", 16_384, 200), ("gpt-4o-mini", 16_385, 400), ("gpt-35-turbo", 4_097, 400),
    ("gpt-4o-mini", 36893488147419103232, 400),  # found by probing: accepted, and 3.7e19 tokens counted
])
def test_max_tokens_beyond_the_models_output_limit_is_refused(sim: Any, deployment: str, max_tokens: int,
                                                              status: int) -> None:
    answer = sim.post(sim.backend(), _chat(deployment), body=sim.chat_body(max_tokens=max_tokens))
    assert answer.status_code == status
    if status == 400:
        assert answer.json()["error"]["message"].startswith(f"max_tokens is too large: {max_tokens}. This model "
                                                            "supports at most ")


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("temperature", 2.5, "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 2.5"),
    ("temperature", -0.1, "Invalid 'temperature': decimal below minimum value. Expected a value >= 0"),
    ("top_p", 1.5, "Invalid 'top_p': decimal above maximum value. Expected a value <= 1"),
    ("presence_penalty", -3, "Invalid 'presence_penalty': decimal below minimum value. Expected a value >= -2"),
    ("frequency_penalty", "0.5", "Invalid type for 'frequency_penalty': expected a decimal, but got str instead."),
])
def test_sampling_parameters_outside_azure_openais_ranges_are_refused(sim: Any, field: str, value: Any,
                                                                     expected: str) -> None:
    answer = sim.post(sim.backend(), body=sim.chat_body(**{field: value}))
    assert answer.status_code == 400 and answer.json()["error"]["message"].startswith(expected)


def test_an_infinite_temperature_is_refused(sim: Any) -> None:
    """1e999999 in JSON is infinity to a parser that reads it: found by probing, it was answered 200."""
    body = sim.chat_body()
    raw = json.dumps(body)[:-1] + ', "temperature": 1e999999}'
    answer = sim.post(sim.backend(), body=raw.encode())
    assert answer.status_code == 400 and "'temperature'" in answer.json()["error"]["message"]


def test_sampling_parameters_within_range_are_served(sim: Any) -> None:
    body = sim.chat_body(temperature=0, top_p=1, presence_penalty=-2, frequency_penalty=2.0)
    assert sim.post(sim.backend(), body=body).status_code == 200


@pytest.mark.parametrize("n", [0, 129, "2", True])
def test_a_bad_n_is_refused(sim: Any, n: Any) -> None:
    assert sim.post(sim.backend(), body=sim.chat_body(n=n)).status_code == 400


def test_a_stream_is_server_sent_events_with_usage_last_when_asked(sim: Any) -> None:
    whole = sim.post(sim.backend(), body=sim.chat_body()).json()
    response = sim.post(sim.backend(), body=sim.chat_body(stream=True, stream_options={"include_usage": True}))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert "content-length" not in response.headers
    events = _events(response.text)
    assert events[0]["choices"] == [] and events[0]["prompt_filter_results"][0]["prompt_index"] == 0
    chunks = events[1:-1]
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == "gpt-4o-2024-08-06" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == whole["choices"][0]["message"]["content"]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["choices"][0]["delta"] == {}
    assert all(c["usage"] is None for c in chunks)
    usage = events[-1]
    assert usage["choices"] == [] and usage["usage"] == whole["usage"]


def test_a_stream_without_include_usage_has_no_usage(sim: Any) -> None:
    events = _events(sim.post(sim.backend(), body=sim.chat_body(stream=True)).text)
    assert all("usage" not in event for event in events)


def test_stream_options_without_stream_are_refused(sim: Any) -> None:
    response = sim.post(sim.backend(), body=sim.chat_body(stream_options={"include_usage": True}))
    assert response.status_code == 400


def test_a_stream_is_paced_by_the_per_token_latency(sim: Any, sleep: Any) -> None:
    behaviour = BackendBehaviour(latency_base_ms=50, latency_per_token_ms=10)
    backend = sim.backend(behaviour, sleep=sleep)
    events = _events(sim.post(backend, body=sim.chat_body(stream=True)).text)
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in events[1:])
    assert sleep.calls[0] == pytest.approx(0.05)  # time to the first event
    assert sum(sleep.calls[1:]) == pytest.approx(0.01 * estimate_text_tokens(text), rel=0.2)
    assert len(sleep.calls) > 3  # one wait per delta, not one for the whole answer


def test_embeddings_on_a_chat_deployment_are_refused_as_azure_does(sim: Any) -> None:
    response = sim.post(sim.backend(), _embeddings("gpt-4o-mini"), {"input": "hello"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "OperationNotSupported"
    assert error["message"].startswith("The embeddings operation does not work with the specified model, gpt-4o-mini.")


def test_chat_on_an_embeddings_deployment_is_refused(sim: Any) -> None:
    response = sim.post(sim.backend(), _chat("text-embedding-3-small"))
    assert response.status_code == 400 and response.json()["error"]["code"] == "OperationNotSupported"
    assert "chatCompletion operation" in response.json()["error"]["message"]


def test_dimensions_shorten_text_embedding_3_vectors(sim: Any) -> None:
    path = _embeddings("text-embedding-3-small")
    full, short, padded = sim.post_all(sim.backend(), [
        (path, {"input": "hello"}), (path, {"input": "hello", "dimensions": 3}),
        (path, {"input": "hello", "dimensions": 16})])
    assert full.json()["model"] == "text-embedding-3-small"
    assert len(full.json()["data"][0]["embedding"]) == sim.EMBED_DIM
    vector = np.asarray(short.json()["data"][0]["embedding"])
    assert len(vector) == 3 and np.linalg.norm(vector) == pytest.approx(1.0)
    leading = np.asarray(sim.embed(["hello"])[0][:3])
    np.testing.assert_allclose(vector, leading / np.linalg.norm(leading), rtol=1e-6)
    assert len(padded.json()["data"][0]["embedding"]) == 16


@pytest.mark.parametrize(("deployment", "dimensions"), [
    ("text-embedding-ada-002", 256), ("text-embedding-3-small", 0), ("text-embedding-3-small", 1537),
    ("text-embedding-3-large", "64"),
])
def test_dimensions_the_model_cannot_take_are_refused(sim: Any, deployment: str, dimensions: Any) -> None:
    response = sim.post(sim.backend(), _embeddings(deployment), {"input": "hello", "dimensions": dimensions})
    assert response.status_code == 400
