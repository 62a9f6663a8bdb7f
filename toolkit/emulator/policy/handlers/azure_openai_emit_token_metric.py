"""``<azure-openai-emit-token-metric>``: the Azure OpenAI spelling of ``<llm-emit-token-metric>``."""

from __future__ import annotations

from toolkit.emulator.policy.handlers.llm_emit_token_metric import NOTES, LlmEmitTokenMetric
from toolkit.emulator.policy.registry import handler


@handler("azure-openai-emit-token-metric", sections=("inbound",), attributes=("namespace",),
         children=("dimension",), notes="Same as llm-emit-token-metric. " + NOTES)
class AzureOpenAiEmitTokenMetric(LlmEmitTokenMetric):
    """Token usage metrics (Azure OpenAI name)."""

    __slots__ = ()
