"""The embeddings the semantic-cache scenario predicts with: which URL (the emulator's simulated deployment, or the
configured one on Azure), which token, and unit vectors from the answer (httpx.MockTransport deployment)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import httpx
import numpy as np
import pytest

from toolkit.validate.embeddings import COGNITIVE_SCOPE, embeddings_url, http_embedder
from toolkit.validate.target import Target

EMBEDDINGS = "https://aoai.example.net/openai/deployments/emb/embeddings"


def _config(url: str = EMBEDDINGS) -> Any:
    backends = [SimpleNamespace(name="chat", url="https://aoai.example.net"), SimpleNamespace(name="emb", url=url)]
    return SimpleNamespace(gateway=SimpleNamespace(backends=backends),
                           environment=SimpleNamespace(openai_api_version="2024-10-21"))


class _Control:
    def __init__(self, backends: dict[str, Any]) -> None:
        self._backends, self.tokens = backends, []

    def backends(self) -> dict[str, Any]:
        return self._backends

    def token(self, **options: Any) -> str:
        self.tokens.append(options)
        return "emulator-jwt"


def test_on_azure_the_url_is_the_configured_deployments() -> None:
    target = Target("t", "https://gw", "k")
    assert embeddings_url(_config(), "emb", target) == f"{EMBEDDINGS}?api-version=2024-10-21"
    assert embeddings_url(_config(EMBEDDINGS + "/"), "emb", target) == f"{EMBEDDINGS}/?api-version=2024-10-21"
    assert embeddings_url(_config(), "missing", target) is None
    assert embeddings_url(_config(), "chat", target) is None  # not an embeddings deployment


def test_on_the_emulator_the_url_is_its_simulated_deployment_with_the_configured_path() -> None:
    target = Target("t", "http://gw", "k", control=_Control({"emb": {"url": "http://127.0.0.1:7001/"}}))  # type: ignore[arg-type]
    assert embeddings_url(_config(), "emb", target) == \
        "http://127.0.0.1:7001/openai/deployments/emb/embeddings?api-version=2024-10-21"
    empty = Target("t", "http://gw", "k", control=_Control({"emb": {}}))  # type: ignore[arg-type]
    assert embeddings_url(_config(), "emb", empty) is None
    assert embeddings_url(_config(), "emb", Target("t", "http://gw", "k", control=_Control({}))) is None  # type: ignore[arg-type]


def _deployment(seen: list[httpx.Request], status: int = 200) -> httpx.Client:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        texts = json.loads(request.content)["input"]
        return httpx.Response(status, json={"data": [{"embedding": [3.0 * (i + 1), 4.0 * (i + 1)]}
                                                     for i, _ in enumerate(texts)]})
    return httpx.Client(transport=httpx.MockTransport(answer))


def _target(kind: str) -> Target:
    if kind == "azure":
        credential = SimpleNamespace(get_token=lambda scope: SimpleNamespace(token=f"azure-jwt-for-{scope}"))
        return Target("t", "https://gw", "k", credential=credential)
    if kind == "emulator":
        return Target("t", "http://gw", "k", control=_Control({}))  # type: ignore[arg-type]
    return Target("t", "https://gw", "k")


@pytest.mark.parametrize(("kind", "authorization"), [
    ("azure", f"Bearer azure-jwt-for-{COGNITIVE_SCOPE}"), ("emulator", "Bearer emulator-jwt"), ("none", None)])
def test_the_embedder_sends_the_texts_with_the_targets_token_and_returns_unit_vectors(kind: str,
                                                                                       authorization: str | None) -> None:
    target = _target(kind)
    seen: list[httpx.Request] = []
    vectors = http_embedder(_deployment(seen), "http://emb/x", target)(["a", "b"])
    assert np.allclose(vectors, [[0.6, 0.8], [0.6, 0.8]])
    assert json.loads(seen[0].content) == {"input": ["a", "b"]} and seen[0].headers.get("authorization") == authorization
    if target.control is not None:
        assert target.control.tokens == [{"audience": "https://cognitiveservices.azure.com"}]  # type: ignore[attr-defined]


def test_a_refused_embeddings_call_says_the_status() -> None:
    with pytest.raises(RuntimeError, match="^the embeddings deployment answered 429$"):
        http_embedder(_deployment([], status=429), "http://emb/x", Target("t", "https://gw", "k"))(["a"])


def test_urls_ending_in_x_keep_it() -> None:
    target = Target("t", "http://gw", "k", control=_Control({"emb": {"url": "http://127.0.0.1:7001/X/"}}))  # type: ignore[arg-type]
    assert embeddings_url(_config(), "emb", target) == \
        "http://127.0.0.1:7001/X/openai/deployments/emb/embeddings?api-version=2024-10-21"
    assert embeddings_url(_config(EMBEDDINGS + "X"), "emb", Target("t", "https://gw", "k")) is None
