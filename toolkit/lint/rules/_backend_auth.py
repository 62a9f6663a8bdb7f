"""Shared by the backend-authentication rules: which backends are Azure OpenAI, and which are authenticated.

A backend is authenticated when its ``credentials`` send a key or an Authorization header, or when a
policy that routes to it (``set-backend-service``, a pool's members included) sends a token or a key
(``authentication-managed-identity``, ``set-header name="api-key"|"Authorization"``), itself or
through a fragment it includes. The global policy covers every backend; an operation policy also
covers what its API's policy routes to; a semantic-cache lookup with ``embeddings-backend-auth``
covers its embeddings backend.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

from toolkit.artifacts.policy_xml import local_name
from toolkit.lint.core import LintContext
from toolkit.lint.rules._semantic_cache import LOOKUP_ELEMENTS
from toolkit.lint.views import BackendDocument, PolicyDocument, Scope

AZURE_OPENAI_HOSTS = re.compile(r"\.(openai\.azure\.com|cognitiveservices\.azure\.com|services\.ai\.azure\.com)$",
                                re.IGNORECASE)
AUTH_HEADERS = ("api-key", "authorization")


def is_azure_openai(backend: BackendDocument) -> bool:
    """Whether a single backend's URL is an Azure OpenAI (Azure AI services) endpoint."""
    host = urlparse(backend.url or "").hostname or ""
    return not backend.is_pool and bool(AZURE_OPENAI_HOSTS.search(host))


def has_credentials(backend: BackendDocument | None) -> bool:
    """Whether the backend's own ``credentials`` authenticate it (an auth header or an authorization scheme)."""
    credentials = backend.properties.get("credentials") if backend is not None else None
    if not isinstance(credentials, dict):
        return False
    headers = credentials.get("header") if isinstance(credentials.get("header"), dict) else {}
    return any(str(name).lower() in AUTH_HEADERS for name in headers) or bool(credentials.get("authorization"))


def _sends_auth(ctx: LintContext, document: PolicyDocument, seen: frozenset[str] = frozenset()) -> bool:
    for element in document.elements("authentication-managed-identity", "set-header", "include-fragment"):
        name = local_name(element)
        if name == "authentication-managed-identity":
            return True
        if name == "set-header" and str(element.get("name", "")).lower() in AUTH_HEADERS \
                and element.get("exists-action", "override") != "delete":
            return True
        fragment_id = str(element.get("fragment-id", "")).lower()
        if name == "include-fragment" and fragment_id not in seen:
            fragment = ctx.fragments.get(fragment_id)
            if fragment is not None and _sends_auth(ctx, fragment, seen | {fragment_id}):
                return True
    return False


def _routed(ctx: LintContext, document: PolicyDocument) -> set[str]:
    """Lower-case names of the single backends a policy document routes to (pools expanded)."""
    names: set[str] = set()
    for element in document.elements("set-backend-service"):
        backend = ctx.backend(ctx.resolve(element.get("backend-id")) or "")
        if backend is None:
            continue
        members = [m.backend for m in backend.members if m.backend] if backend.is_pool else [backend.name]
        names |= {m.lower() for m in members}
    return names


def authenticated_backends(ctx: LintContext) -> set[str] | None:
    """Lower-case names of backends a policy authenticates; None when the global policy authenticates every one."""
    api_routes = {d.name.lower(): _routed(ctx, d) for d in ctx.policies if d.scope is Scope.API}
    # a semantic-cache lookup authenticates its own embeddings call (embeddings-backend-auth)
    covered = {str(ctx.resolve(e.get("embeddings-backend-id")) or "").lower()
               for _, e in ctx.policy_elements(*LOOKUP_ELEMENTS) if e.get("embeddings-backend-auth")}
    for document in ctx.policies:
        if document.scope is Scope.FRAGMENT or not _sends_auth(ctx, document):
            continue
        if document.scope is Scope.GLOBAL:
            return None
        covered |= _routed(ctx, document)
        if document.scope is Scope.OPERATION:
            covered |= api_routes.get(document.path.split("/")[1].lower(), set())
    return covered
