"""APIM029: validate-jwt without audiences or issuers."""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from toolkit.lint.core import Finding, LintContext, Rule, Severity


def has_values(element: etree._Element, container: str, item: str) -> bool:
    """True when ``element`` has a <container> child holding at least one non-empty <item>."""
    return any((value.text or "").strip() for holder in element.iterchildren(container) for value in holder.iterchildren(item))


class JwtAudiencesIssuers(Rule):
    """A <validate-jwt> has no <audiences> or no <issuers>.

    Error rather than warning: without them every token is refused with 401 (the docs' own
    example did not work until both were added, MicrosoftDocs/azure-docs PR #110081), and an
    audience check is what stops tokens issued for other applications of the same tenant.

    Anti-pattern:
        <validate-jwt header-name="Authorization">
            <openid-config url="https://login.microsoftonline.com/{{tenant}}/v2.0/.well-known/openid-configuration" />
        </validate-jwt>

    Best practice:
        <validate-jwt header-name="Authorization">
            <openid-config url="https://login.microsoftonline.com/{{tenant}}/v2.0/.well-known/openid-configuration" />
            <audiences><audience>api://{{client-id}}</audience></audiences>
            <issuers><issuer>https://login.microsoftonline.com/{{tenant}}/v2.0</issuer></issuers>
        </validate-jwt>
    """

    code = "APIM029"
    name = "jwt-audiences-issuers"
    severity = Severity.ERROR
    summary = "validate-jwt needs <audiences> and <issuers>, or it refuses every token."
    explains_refusals = True

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """validate-jwt elements missing audiences and/or issuers."""
        for document, element in ctx.policy_elements("validate-jwt"):
            missing = [
                f"<{container}>"
                for container, item in (("audiences", "audience"), ("issuers", "issuer"))
                if not has_values(element, container, item)
            ]
            if missing:
                yield self.finding(
                    document.file,
                    element.sourceline,
                    f"<validate-jwt> has no {' or '.join(missing)}: every token is rejected with 401 until they are set",
                )
