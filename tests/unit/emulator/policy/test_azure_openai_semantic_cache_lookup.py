"""<azure-openai-semantic-cache-lookup>: the Azure OpenAI name of the semantic cache lookup."""

from __future__ import annotations

from .policy_helpers import FakeServices, assert_sections, execute
from .test_llm_semantic_cache_lookup import cached_api, lookup

from toolkit.emulator.policy.handlers.azure_openai_semantic_cache_lookup import AzureOpenAiSemanticCacheLookup
from toolkit.emulator.policy.handlers.llm_semantic_cache_lookup import LlmSemanticCacheLookup

NAME = "azure-openai-semantic-cache-lookup"


def test_sections() -> None:
    assert_sections(lookup(NAME), ("inbound",))


def test_same_declaration_as_the_llm_element() -> None:
    ours, theirs = AzureOpenAiSemanticCacheLookup.spec, LlmSemanticCacheLookup.spec
    assert (ours.attributes, ours.required, ours.children) == (theirs.attributes, theirs.required, theirs.children)


def test_hits_after_a_stored_miss() -> None:
    services = FakeServices()
    policy = cached_api(NAME)
    execute([None, policy], services, backend_url="http://backend.test")
    hit = execute([None, policy], services, backend_url="http://backend.test")
    assert len(services.calls) == 1 and hit.trace.find(NAME)[0]["message"] == "hit"
