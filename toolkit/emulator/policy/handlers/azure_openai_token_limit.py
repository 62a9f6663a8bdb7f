"""``<azure-openai-token-limit>``: the Azure OpenAI spelling of ``<llm-token-limit>`` (same behaviour)."""

from __future__ import annotations

from toolkit.emulator.policy.handlers.llm_token_limit import ATTRIBUTES, NOTES, REQUIRED, LlmTokenLimit
from toolkit.emulator.policy.registry import handler


@handler("azure-openai-token-limit", sections=("inbound",), attributes=ATTRIBUTES, required=REQUIRED,
         notes="Same as llm-token-limit. " + NOTES)
class AzureOpenAiTokenLimit(LlmTokenLimit):
    """Token budget per counter key (Azure OpenAI name)."""

    __slots__ = ()
