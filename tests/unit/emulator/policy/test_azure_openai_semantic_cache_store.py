"""<azure-openai-semantic-cache-store>: the Azure OpenAI name of the semantic cache store."""

from __future__ import annotations

from .policy_helpers import FakeServices, assert_sections, execute
from .test_llm_semantic_cache_lookup import cached_api

NAME = "azure-openai-semantic-cache-store"


def test_sections() -> None:
    assert_sections(f'<{NAME} duration="60"/>', ("outbound",))


def test_stores_after_a_miss() -> None:
    services = FakeServices()
    ctx = execute([None, cached_api("azure-openai-semantic-cache-lookup")], services, backend_url="http://b.test")
    assert services.cache_store.count(services.now) == 1
    assert ctx.trace.find(NAME)[0]["message"] == "stored for 60 s"
