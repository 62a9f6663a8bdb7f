"""APIM030: validate-jwt without a signing key source."""

from __future__ import annotations

from collections.abc import Iterator

from toolkit.lint.core import Finding, LintContext, Rule, Severity


class JwtKeySource(Rule):
    """A <validate-jwt> has neither <openid-config> nor <issuer-signing-keys>.

    Signed tokens are required by default (``require-signed-tokens`` true) and APIM needs keys
    to check the signature: from an OpenID configuration (JWKS, cached about an hour) or listed
    inline. Without either no token can validate. Not reported when require-signed-tokens is
    "false".

    Anti-pattern:
        <validate-jwt header-name="Authorization">
            <audiences><audience>api://gateway</audience></audiences>
            <issuers><issuer>https://login.microsoftonline.com/{{tenant}}/v2.0</issuer></issuers>
        </validate-jwt>

    Best practice:
        <validate-jwt header-name="Authorization">
            <openid-config url="https://login.microsoftonline.com/{{tenant}}/v2.0/.well-known/openid-configuration" />
            <audiences><audience>api://gateway</audience></audiences>
            <issuers><issuer>https://login.microsoftonline.com/{{tenant}}/v2.0</issuer></issuers>
        </validate-jwt>
    """

    code = "APIM030"
    name = "jwt-key-source"
    severity = Severity.ERROR
    summary = "validate-jwt needs <openid-config> or <issuer-signing-keys> to check signatures."
    explains_refusals = True

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """validate-jwt elements with no key source."""
        for document, element in ctx.policy_elements("validate-jwt"):
            if (element.get("require-signed-tokens") or "").strip().lower() == "false":
                continue
            has_openid = any((child.get("url") or "").strip() for child in element.iterchildren("openid-config"))
            has_keys = any(True for keys in element.iterchildren("issuer-signing-keys") for _ in keys.iterchildren("key"))
            if not (has_openid or has_keys):
                yield self.finding(
                    document.file,
                    element.sourceline,
                    "<validate-jwt> has no <openid-config url> and no <issuer-signing-keys>: no token signature can be verified",
                )
