"""<azure-openai-emit-token-metric>: the same handler as llm-emit-token-metric under the Azure OpenAI name."""

from __future__ import annotations

from toolkit.emulator.policy.handlers import default_registry


def test_it_is_the_llm_twin() -> None:
    registry = default_registry()
    azure, llm = registry.get("azure-openai-emit-token-metric"), registry.get("llm-emit-token-metric")
    assert issubclass(azure, llm) and azure.spec.attributes == llm.spec.attributes
    assert azure.spec.notes.startswith("Same as llm-emit-token-metric")
