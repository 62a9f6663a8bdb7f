"""Which model a simulated deployment serves, read from the deployment's name.

Azure OpenAI answers with the model's name in ``model`` (``gpt-4o-mini-2024-07-18``), not the
deployment's, and refuses an operation the model cannot do (embeddings on a chat model and the
reverse: 400 ``OperationNotSupported``). The emulator has no deployment list, so a deployment named
after a model (``gpt-4o-mini``, ``text-embedding-3-small``, ``gpt-4o-mini-eastus``) serves that
model; any other name containing ``embedding`` or ``ada`` serves ``text-embedding-ada-002``, and
every other name ``gpt-4o-mini``. Versions are the current default versions of those models.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass


@dataclass(frozen=True)
class SimulatedModel:
    """A model as the simulator serves it: its reported name, its kind, its embedding size limits."""

    name: str  # what `model` says in answers
    kind: str  # "chat" or "embeddings"
    dimensions: int | None = None  # embeddings: the model's vector size
    shortenable: bool = False  # embeddings: honours `dimensions` (text-embedding-3-*)
    max_output_tokens: int | None = None  # chat: the largest max_tokens the model takes (its "max output tokens")


# Longest prefix first when matching deployment names.
_CATALOGUE: dict[str, SimulatedModel] = {
    # max output tokens from Azure OpenAI's model tables (learn.microsoft.com/azure/ai-foundry/openai/concepts/models)
    "gpt-4o-mini": SimulatedModel("gpt-4o-mini-2024-07-18", "chat", max_output_tokens=16_384),
    "gpt-4o": SimulatedModel("gpt-4o-2024-08-06", "chat", max_output_tokens=16_384),
    "gpt-4.1-mini": SimulatedModel("gpt-4.1-mini-2025-04-14", "chat", max_output_tokens=32_768),
    "gpt-4.1-nano": SimulatedModel("gpt-4.1-nano-2025-04-14", "chat", max_output_tokens=32_768),
    "gpt-4.1": SimulatedModel("gpt-4.1-2025-04-14", "chat", max_output_tokens=32_768),
    "gpt-4": SimulatedModel("gpt-4", "chat", max_output_tokens=8_192),
    "gpt-35-turbo": SimulatedModel("gpt-35-turbo", "chat", max_output_tokens=4_096),
    "gpt-3.5-turbo": SimulatedModel("gpt-35-turbo", "chat", max_output_tokens=4_096),
    "text-embedding-3-small": SimulatedModel("text-embedding-3-small", "embeddings", 1536, True),
    "text-embedding-3-large": SimulatedModel("text-embedding-3-large", "embeddings", 3072, True),
    "text-embedding-ada-002": SimulatedModel("text-embedding-ada-002", "embeddings", 1536, False),
}
_PREFIXES = sorted(_CATALOGUE, key=len, reverse=True)
DEFAULT_CHAT = _CATALOGUE["gpt-4o-mini"]
DEFAULT_EMBEDDINGS = _CATALOGUE["text-embedding-ada-002"]


@functools.lru_cache(maxsize=256)
def model_for_deployment(deployment: str) -> SimulatedModel:
    """The model a deployment of this name serves (see the module docstring)."""
    lowered = deployment.lower()
    for prefix in _PREFIXES:
        if lowered.startswith(prefix):
            return _CATALOGUE[prefix]
    if "embedding" in lowered or "ada" in lowered:
        return DEFAULT_EMBEDDINGS
    return DEFAULT_CHAT


def unsupported_operation_message(operation: str, model: SimulatedModel) -> str:
    """Azure OpenAI's 400 message when the deployment's model cannot do ``operation``."""
    base = model.name.rsplit("-20", 1)[0] if model.kind == "chat" else model.name
    return (f"The {operation} operation does not work with the specified model, {base}. Please choose different "
            "model and try again. You can learn more about which models can be used with each operation here: "
            "https://go.microsoft.com/fwlink/?linkid=2197993.")
