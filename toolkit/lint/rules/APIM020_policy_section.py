"""APIM020: policy element in a section where APIM refuses it."""

from __future__ import annotations

from collections.abc import Iterator

from toolkit.artifacts.policy_xml import local_name, section_of
from toolkit.lint.core import Finding, LintContext, Rule, Scope, Severity

# Element -> the sections APIM accepts it in (from each policy's reference page, "Policy sections").
ALLOWED_SECTIONS: dict[str, tuple[str, ...]] = {
    "forward-request": ("backend",),
    "set-backend-service": ("inbound", "backend"),
    "validate-jwt": ("inbound",),
    "validate-azure-ad-token": ("inbound",),
    "azure-openai-semantic-cache-lookup": ("inbound",),
    "llm-semantic-cache-lookup": ("inbound",),
    "azure-openai-semantic-cache-store": ("outbound",),
    "llm-semantic-cache-store": ("outbound",),
    "azure-openai-token-limit": ("inbound",),
    "llm-token-limit": ("inbound",),
    "azure-openai-emit-token-metric": ("inbound",),
    "llm-emit-token-metric": ("inbound",),
    "rate-limit": ("inbound",),
    "rate-limit-by-key": ("inbound",),
    "quota": ("inbound",),
    "quota-by-key": ("inbound",),
    "cache-lookup": ("inbound",),
    "cache-store": ("outbound",),
    "cors": ("inbound",),
    "ip-filter": ("inbound",),
}


def _sections(names: tuple[str, ...]) -> str:
    return " or ".join(f"<{name}>" for name in names)


class PolicySection(Rule):
    """A policy element sits in a section where APIM refuses it (publishing fails).

    Checked from a table of element -> allowed sections (e.g. semantic-cache lookup, token
    limits and validate-jwt only in <inbound>, semantic-cache store only in <outbound>,
    forward-request only in <backend>). Elements nested in <choose>, <retry> and the like count
    for the section they are in; fragments are checked where an <include-fragment> puts them.
    Elements without a table entry are not judged.

    Anti-pattern:
        <outbound>
            <base />
            <azure-openai-semantic-cache-lookup score-threshold="0.05" ... />
        </outbound>

    Best practice:
        <inbound>
            <base />
            <azure-openai-semantic-cache-lookup score-threshold="0.05" ... />
        </inbound>
        <outbound>
            <base />
            <azure-openai-semantic-cache-store duration="120" />
        </outbound>
    """

    code = "APIM020"
    name = "policy-section"
    severity = Severity.ERROR
    summary = "A policy element is in a section where APIM does not accept it."
    explains_refusals = True

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """Misplaced elements, and include-fragments that pull misplaced elements in."""
        for document in ctx.policies:
            if document.scope is Scope.FRAGMENT:
                continue
            for element in document.elements(*ALLOWED_SECTIONS):
                section = section_of(element)
                allowed = ALLOWED_SECTIONS[local_name(element)]
                if section is not None and section not in allowed:
                    yield self.finding(
                        document.file,
                        element.sourceline,
                        f"<{local_name(element)}> is in <{section}>; APIM accepts it only in {_sections(allowed)}",
                    )
            for include in document.elements("include-fragment"):
                section = section_of(include)
                fragment = ctx.fragments.get((include.get("fragment-id") or "").lower())
                if section is None or fragment is None:
                    continue
                for element in fragment.elements(*ALLOWED_SECTIONS):
                    allowed = ALLOWED_SECTIONS[local_name(element)]
                    if section not in allowed:
                        yield self.finding(
                            document.file,
                            include.sourceline,
                            f"fragment '{fragment.name}' is included in <{section}> but contains <{local_name(element)}> "
                            f"({fragment.file}:{element.sourceline}), which APIM accepts only in {_sections(allowed)}",
                        )
