"""APIM000: a file of the tree cannot be parsed."""

from __future__ import annotations

from collections.abc import Iterable

from toolkit.lint.core import UNPARSEABLE, Finding, LintContext, Rule, Severity


class Unparseable(Rule):
    """A JSON or policy XML file cannot be parsed, so nothing in it can be checked.

    Covers malformed JSON, malformed XML, a DTD or entity reference in a policy (refused, never
    expanded), a file too large, and a policy whose root element is not <policies> (<fragment>
    for policy fragments), and an information file whose ``properties`` is not an object (publish
    cannot build the resource from it; ``{}`` sets nothing and passes). The finding carries the line;
    every other file is still linted.

    Anti-pattern:
        {"properties": {"url": "https://aoai.openai.azure.com/openai",}}
        {"properties": "https://aoai.openai.azure.com/openai"}
        <policies><inbound><base /></policies>
        <!DOCTYPE policies [<!ENTITY x SYSTEM "file:///etc/passwd">]><policies>&x;</policies>

    Best practice:
        {"properties": {"url": "https://aoai.openai.azure.com/openai"}}
        <policies><inbound><base /></inbound></policies>
        Raw policy expressions such as @(context.Request.Body.As<JObject>()) are fine: APIM
        accepts them and the linter reads them the same way.
    """

    code = UNPARSEABLE
    name = "unparseable"
    severity = Severity.ERROR
    summary = "A JSON or policy XML file cannot be parsed."

    def check(self, ctx: LintContext) -> Iterable[Finding]:
        """The parse problems collected while the context was built."""
        return list(ctx.problems)
