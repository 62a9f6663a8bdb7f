"""Embeddings from the same deployment the gateway's semantic cache uses, over HTTP (for predictions)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from toolkit.config.models import LoadedConfig
from toolkit.validate.target import Target

COGNITIVE_SCOPE = "https://cognitiveservices.azure.com/.default"


def embeddings_url(config: LoadedConfig, backend: str, target: Target) -> str | None:
    """The embeddings endpoint: the emulator's simulated instance of ``backend``, or its configured URL."""
    configured = next((b.url for b in config.gateway.backends if b.name == backend), None)
    if configured is None:
        return None
    if target.control is None:
        url = configured
    else:
        simulated = target.control.backends().get(backend)
        if not simulated:
            return None
        url = str(simulated["url"]).rstrip("/") + urlsplit(configured).path
    if not url.rstrip("/").endswith("/embeddings"):
        return None
    api_version = config.environment.openai_api_version
    return f"{url}?api-version={api_version}"


def http_embedder(http: httpx.Client, url: str, target: Target) -> Callable[[list[str]], Any]:
    """A function texts -> unit vectors (numpy), calling ``url``; raises RuntimeError when refused."""
    import numpy as np

    def embed(texts: list[str]) -> Any:
        headers = {}
        if target.credential is not None:
            headers["Authorization"] = f"Bearer {target.credential.get_token(COGNITIVE_SCOPE).token}"
        elif target.control is not None:
            headers["Authorization"] = f"Bearer {target.control.token(audience='https://cognitiveservices.azure.com')}"
        response = http.post(url, json={"input": texts}, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"the embeddings deployment answered {response.status_code}")
        vectors = np.array([item["embedding"] for item in response.json()["data"]], dtype=float)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    return embed
