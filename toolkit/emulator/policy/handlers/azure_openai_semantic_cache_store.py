"""``<azure-openai-semantic-cache-store>``: the Azure OpenAI spelling of ``<llm-semantic-cache-store>``."""

from __future__ import annotations

from toolkit.emulator.policy.handlers.llm_semantic_cache_store import NOTES, LlmSemanticCacheStore
from toolkit.emulator.policy.registry import handler


@handler("azure-openai-semantic-cache-store", sections=("outbound",), attributes=("duration",),
         required=("duration",), once_per_section=True, notes="Same as llm-semantic-cache-store. " + NOTES)
class AzureOpenAiSemanticCacheStore(LlmSemanticCacheStore):
    """Semantic cache store (Azure OpenAI name)."""

    __slots__ = ()
