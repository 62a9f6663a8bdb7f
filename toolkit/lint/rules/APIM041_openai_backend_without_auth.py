"""APIM041: an Azure OpenAI backend that nothing authenticates."""

from __future__ import annotations

from collections.abc import Iterator

from toolkit.lint.core import Finding, LintContext, Rule, Severity
from toolkit.lint.rules._backend_auth import authenticated_backends, has_credentials, is_azure_openai


class OpenAIBackendWithoutAuth(Rule):
    """A backend points at Azure OpenAI, but neither it nor a policy routing to it authenticates.

    Azure OpenAI answers 401 to a request without an ``api-key`` or a Microsoft Entra bearer token.
    Authenticate with the gateway's managed identity in the policy that routes to the backend (or a
    fragment it includes, or the global policy), or with the backend's ``credentials`` holding the
    key through a secret or Key Vault named value.

    Anti-pattern:
        backends/aoai/backendInformation.json: {"properties": {"url": "https://x.openai.azure.com"}}
        apis/chat/policy.xml:                  <set-backend-service backend-id="aoai" />

    Best practice:
        apis/chat/policy.xml:   <set-backend-service backend-id="aoai" />
                                <authentication-managed-identity resource="https://cognitiveservices.azure.com" />
        (or "credentials": {"header": {"api-key": ["{{aoai-api-key}}"]}} on the backend)
    """

    code = "APIM041"
    name = "openai-backend-without-auth"
    severity = Severity.WARNING
    summary = "An Azure OpenAI backend has no authentication: every call would get 401."

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """Each Azure OpenAI backend without credentials that no authenticating policy routes to."""
        covered = authenticated_backends(ctx)
        if covered is None:
            return
        for key, backend in sorted(ctx.backends.items()):
            if is_azure_openai(backend) and not has_credentials(backend) and key not in covered:
                yield self.finding(backend.file, backend.prop_line("url"),
                                   f"backend '{backend.name}' points at Azure OpenAI ({backend.url}) without any "
                                   "authentication: add authentication-managed-identity to the policy routing to it "
                                   "(toolkit.yaml: auth: managed-identity) or an api-key credential")
