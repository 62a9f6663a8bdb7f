"""``<azure-openai-semantic-cache-lookup>``: the Azure OpenAI spelling of ``<llm-semantic-cache-lookup>``."""

from __future__ import annotations

from toolkit.emulator.policy.handlers.llm_semantic_cache_lookup import (
    ATTRIBUTES,
    NOTES,
    REQUIRED,
    LlmSemanticCacheLookup,
)
from toolkit.emulator.policy.registry import handler


@handler("azure-openai-semantic-cache-lookup", sections=("inbound",), attributes=ATTRIBUTES, required=REQUIRED,
         children=("vary-by",), once_per_section=True, notes="Same as llm-semantic-cache-lookup. " + NOTES)
class AzureOpenAiSemanticCacheLookup(LlmSemanticCacheLookup):
    """Semantic cache lookup (Azure OpenAI name)."""

    __slots__ = ()
