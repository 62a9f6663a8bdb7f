"""The handler registry, its refusals and the COVERAGE table."""

from __future__ import annotations

import pytest

from toolkit.emulator.policy import coverage_markdown, handler
from toolkit.emulator.policy.handlers import BUILTIN_HANDLERS, default_registry
from toolkit.emulator.policy.registry import HandlerRegistry, coverage_rows

EXPECTED = {
    "authentication-managed-identity", "azure-openai-semantic-cache-lookup", "azure-openai-semantic-cache-store", "azure-openai-token-limit",
    "base", "choose", "forward-request", "include-fragment", "llm-semantic-cache-lookup",
    "llm-semantic-cache-store", "llm-token-limit", "retry", "return-response", "set-backend-service",
    "set-body", "set-header", "set-status", "set-variable", "validate-azure-ad-token", "validate-jwt",
    "azure-openai-emit-token-metric", "llm-emit-token-metric", "cache-lookup-value", "cache-store-value",
    "cache-remove-value", "cache-lookup", "cache-store", "send-request", "send-one-way-request", "rate-limit",
    "rate-limit-by-key", "quota", "quota-by-key", "emit-metric", "llm-content-safety", "set-query-parameter",
    "rewrite-uri", "set-method", "mock-response", "cors", "ip-filter", "check-header", "find-and-replace",
    "json-to-xml", "xml-to-json", "log-to-eventhub", "trace", "wait", "limit-concurrency",
}


def test_the_builtin_registry_holds_every_element_and_is_frozen() -> None:
    registry = default_registry()
    assert set(registry) == EXPECTED
    assert registry.frozen
    with pytest.raises(RuntimeError, match="frozen"):
        registry.add(BUILTIN_HANDLERS[0])


def test_duplicates_and_undecorated_classes_are_refused() -> None:
    with pytest.raises(ValueError, match="two handlers"):
        HandlerRegistry([BUILTIN_HANDLERS[0], BUILTIN_HANDLERS[0]])
    with pytest.raises(TypeError, match="not decorated"):
        HandlerRegistry([object])


def test_the_decorator_checks_its_declaration() -> None:
    with pytest.raises(ValueError, match="required attributes"):
        handler("x", sections=("inbound",), attributes=("a",), required=("b",))
    with pytest.raises(ValueError, match="unknown sections"):
        handler("x", sections=("middle",))


def test_every_handler_documents_itself() -> None:
    for cls in BUILTIN_HANDLERS:
        assert cls.__doc__ and cls.spec.notes, cls
        assert cls.__module__.rsplit(".", 1)[-1] == cls.spec.name.replace("-", "_")


def test_coverage_lists_every_element_with_sections_and_required_attributes() -> None:
    rows = {row["element"]: row for row in coverage_rows(default_registry())}
    assert rows["forward-request"]["sections"] == "backend"
    assert "count*" in rows["retry"]["attributes"] and "first-fast-retry" in rows["retry"]["attributes"]
    text = coverage_markdown()
    for name in EXPECTED:
        assert f"| `{name}` |" in text
    assert "`<when condition>`" in text


def test_every_azure_openai_policy_has_its_llm_twin_with_the_same_attributes() -> None:
    registry = default_registry()
    twins = [name for name in registry if name.startswith("azure-openai-")]
    assert len(twins) >= 4
    for name in twins:
        llm = registry.get("llm-" + name.removeprefix("azure-openai-"))
        assert llm is not None, name
        assert llm.spec.attributes == registry.get(name).spec.attributes, name
        assert llm.spec.children == registry.get(name).spec.children, name


def test_the_emulator_and_lint_agree_on_where_elements_may_stand() -> None:
    from toolkit.lint.rules.APIM020_policy_section import ALLOWED_SECTIONS

    registry = default_registry()
    for element, sections in ALLOWED_SECTIONS.items():
        cls = registry.get(element)
        if cls is not None:
            assert cls.spec.sections == frozenset(sections), element
