"""APIM031: {{named value}} reference with no named value in the tree."""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from toolkit.artifacts.layout import Kind
from toolkit.artifacts.policy_xml import local_name
from toolkit.lint.core import NAMED_VALUE_REFERENCE, Finding, LintContext, Rule, Severity
from toolkit.lint.views import PolicyDocument


def _is_liquid(element: etree._Element) -> bool:
    return local_name(element) == "set-body" and (element.get("template") or "").lower() == "liquid"


def policy_references(document: PolicyDocument) -> Iterator[tuple[str, int]]:
    """(reference, line) for every {{...}} in attribute values and text of a policy (comments and
    Liquid <set-body> templates, whose {{...}} are template syntax, excluded)."""
    for element in document.elements():
        if _is_liquid(element) or any(_is_liquid(node) for node in element.iterancestors("set-body")):
            continue
        line = element.sourceline or 1
        for value in element.attrib.values():
            for match in NAMED_VALUE_REFERENCE.finditer(value):
                yield match.group(1), line
        for text in (element.text, element.tail):
            for match in NAMED_VALUE_REFERENCE.finditer(text or ""):
                yield match.group(1), line + (text or "").count("\n", 0, match.start())


def text_references(text: str) -> Iterator[tuple[str, int]]:
    """(reference, line) for every {{...}} in a raw text."""
    for match in NAMED_VALUE_REFERENCE.finditer(text):
        yield match.group(1), text.count("\n", 0, match.start()) + 1


class NamedValueUnknown(Rule):
    """A ``{{name}}`` reference names no named value of the tree.

    APIM substitutes named values before a policy or backend is used; a reference to a missing
    one fails the publish (or, on Azure, points at a value someone created by hand and nobody
    versioned). Only checked when the tree has a ``named values/`` folder at all, since trees
    without one manage their named values elsewhere. References match a named value's folder
    name or its displayName, ignoring case. Expressions are not evaluated.

    Anti-pattern:
        <audience>{{jwt-audiance}}</audience>            (named values/ has jwt-audience)

    Best practice:
        <audience>{{jwt-audience}}</audience>            (named values/jwt-audience/namedValueInformation.json)
    """

    code = "APIM031"
    name = "named-value-unknown"
    severity = Severity.WARNING
    summary = "A {{named value}} reference names no named value of the tree."
    explains_refusals = True

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """Unknown references in policies (parsed) and JSON files (raw text)."""
        if not ctx.has_named_values:
            return
        policies = {document.path: document for document in ctx.policies}
        for source in ctx.documents:
            if source.kind is Kind.NAMED_VALUE:
                continue
            document = policies.get(source.path)
            if document is None and source.kind.is_policy:
                continue  # unparseable policy: reported as APIM000
            references = policy_references(document) if document else text_references(source.text)
            for reference, line in references:
                if not ctx.named_value_exists(reference):
                    yield self.finding(source.file, line, f"{{{{{reference}}}}} names no named value in named values/ of this tree")
