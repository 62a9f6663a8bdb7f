"""APIM034: a policy document APIM refuses to save, found by compiling it as the local emulator does."""

from __future__ import annotations

from collections.abc import Iterator

from toolkit.emulator.expressions.errors import names_emulator_limit
from toolkit.emulator.management.hooks import PolicyRejected
from toolkit.lint.core import NAMED_VALUE_REFERENCE, Finding, LintContext, Rule, Severity
from toolkit.lint.views import PolicyDocument


class PolicyRefusedAtPublish(Rule):
    """APIM refuses to save a policy document that breaks the policy reference: an attribute out of its range
    (a ``rate-limit`` renewal-period over 300 s), a policy at a scope or in a section it is not allowed in
    (``quota`` outside a product), a policy used twice where the reference allows it once, an expression that
    does not compile as C# (a missing ``return`` in ``@{ }``, an unknown member), a CORS origin that is not
    scheme, host and port, a fragment that includes a fragment, ... The publish then fails on Azure, after
    the resources before it were written.

    The rule compiles each document with the local emulator's policy compiler, which refuses what APIM refuses
    (and says so when something is only the emulator's own limit: those are not findings). It reports the
    first refusal of each document, with its line; a refusal a rule made for it already explains at the same
    line (an unknown element, a missing backend, a <wait> in a <retry>) is left to that rule. Not judged: a
    document naming a named value the tree holds no plain value for (a secret, a Key Vault reference), or a
    fragment the tree does not have (they live elsewhere); backend ids (APIM025 checks them).

    Anti-pattern:
        <inbound>
            <base />
            <rate-limit calls="100" renewal-period="3600" />
        </inbound>

    Best practice:
        <inbound>
            <base />
            <rate-limit calls="5" renewal-period="180" />       (at most 300 s; longer windows: quota)
        </inbound>
    """

    code = "APIM034"
    name = "policy-refused-at-publish"
    severity = Severity.ERROR
    summary = "APIM refuses to save this policy document (compiled as the local emulator compiles it)."
    defers_to_others = True

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """The first refusal of each document the rule can judge."""
        from toolkit.emulator.policy.compiler import compile_policy

        for document in ctx.policies:
            if not _fragments_known(ctx, document):
                continue
            fragments = _fragments_of(ctx, document)
            named_values = _named_values(ctx, [document.text, *fragments.values()])
            if named_values is None:
                continue
            try:
                compile_policy(document.text, document.scope.value, named_values=named_values,
                               fragments=fragments, file=document.file)
            except PolicyRejected as exc:
                if not names_emulator_limit(str(exc)):
                    yield self.finding(document.file, exc.line, f"APIM refuses this document: {exc.reason}")


def _named_values(ctx: LintContext, texts: list[str]) -> dict[str, str] | None:
    """The plain values of the ``{{named values}}`` that ``texts`` (a document and the fragments it includes) name
    (by the name they use), or None when one has none in the tree."""
    values: dict[str, str] = {}
    for reference in {reference for text in texts for reference in NAMED_VALUE_REFERENCE.findall(text)}:
        named_value = ctx.named_value(reference)
        plain = named_value.plain_value if named_value is not None else None
        if plain is None:
            return None
        values[reference] = plain
    return values


def _included(ctx: LintContext, document: PolicyDocument) -> list[str | None]:
    """The ids of the fragments the document includes, as written (None: not a constant; named values
    substituted)."""
    return [ctx.resolve(element.get("fragment-id")) for element in document.elements("include-fragment")]


def _fragments_of(ctx: LintContext, document: PolicyDocument) -> dict[str, str]:
    """The XML of the fragments the document includes, by the id it writes (fragment ids are case-insensitive)."""
    return {name: ctx.fragments[name.lower()].text for name in _included(ctx, document) if name is not None}


def _fragments_known(ctx: LintContext, document: PolicyDocument) -> bool:
    """Whether every fragment the document includes is in the tree."""
    return all(name is not None and name.lower() in ctx.fragments for name in _included(ctx, document))
