"""APIM042: a semantic cache whose embeddings call is not authenticated."""

from __future__ import annotations

from collections.abc import Iterator

from toolkit.lint.core import Finding, LintContext, Rule, Severity
from toolkit.lint.rules._backend_auth import has_credentials
from toolkit.lint.rules._semantic_cache import LOOKUP_ELEMENTS


class EmbeddingsBackendWithoutAuth(Rule):
    """A semantic-cache lookup calls its embeddings backend without authentication.

    The lookup calls the embeddings backend itself, outside the API's policy: an
    ``authentication-managed-identity`` in the policy does not apply to it. Either set
    ``embeddings-backend-auth="system-assigned"`` (the gateway's managed identity) or give the
    embeddings backend an ``api-key`` credential. Otherwise every lookup fails with 401.

    Anti-pattern:
        <azure-openai-semantic-cache-lookup score-threshold="0.05" embeddings-backend-id="embeddings" />

    Best practice:
        <azure-openai-semantic-cache-lookup score-threshold="0.05" embeddings-backend-id="embeddings"
            embeddings-backend-auth="system-assigned" />
    """

    code = "APIM042"
    name = "embeddings-backend-without-auth"
    severity = Severity.WARNING
    summary = "A semantic-cache lookup's embeddings backend has no authentication."

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """Each lookup without embeddings-backend-auth whose embeddings backend has no credentials."""
        for document, element in ctx.policy_elements(*LOOKUP_ELEMENTS):
            if element.get("embeddings-backend-auth"):
                continue
            backend_id = ctx.resolve(element.get("embeddings-backend-id"))
            if backend_id is None or has_credentials(ctx.backend(backend_id)):
                continue
            yield self.finding(document.file, element.sourceline,
                               f"the embeddings call to '{backend_id}' is not authenticated: add "
                               "embeddings-backend-auth=\"system-assigned\" or an api-key credential on the backend")
