"""``<authentication-managed-identity>``: a token of the gateway's managed identity for a resource, sent
to the backend as ``Authorization: Bearer``.

As APIM documents it (learn.microsoft.com/azure/api-management/authentication-managed-identity-policy):
``resource`` (expressions allowed) names the audience; without ``client-id`` the system-assigned
identity is used; the token always goes into the Authorization header, and also into the variable
``output-token-variable-name`` when given; tokens are cached until they expire. The emulator's issuer
plays Microsoft Entra ID (:mod:`toolkit.emulator.managed_identity`). When no token can be had, the
request fails (reason ``ManagedIdentityUnavailable``, 500) unless ``ignore-error="true"``.
"""

from __future__ import annotations

from typing import Any

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.errors import PolicyError
from toolkit.emulator.policy.registry import handler
from toolkit.emulator.policy.values import text_of


@handler(
    "authentication-managed-identity",
    sections=("inbound",),
    attributes=("resource", "client-id", "output-token-variable-name", "ignore-error"),
    required=("resource",),
    notes="The emulator's issuer plays Entra ID: aud = resource, sub/oid = the gateway identity (system-assigned, "
    "or the user-assigned client-id); sets Authorization: Bearer and the output variable; tokens cached until "
    "expiry. authentication-provider (self-hosted workload identity) is not supported.",
)
class AuthenticationManagedIdentity(Policy):
    """Authenticate to the backend as the gateway's managed identity."""

    __slots__ = ("resource", "client_id", "output", "ignore_error")

    def __init__(self, resource: Any, client_id: str | None, output: str | None, ignore_error: bool) -> None:
        super().__init__()
        self.resource = resource
        self.client_id = client_id
        self.output = output
        self.ignore_error = ignore_error

    @classmethod
    def compile(cls, element: Any, cc: Any) -> AuthenticationManagedIdentity:
        """A non-empty resource; client-id and the variable name are constants (as APIM requires)."""
        resource = cc.value(element, "resource", expect="string")
        if not resource.is_expression and not resource.source.strip():
            raise cc.reject(element, "<authentication-managed-identity> attribute 'resource' is empty")
        client_id = cc.constant(element, "client-id")
        if client_id is not None and not client_id.strip():
            raise cc.reject(element, "<authentication-managed-identity> attribute 'client-id' is empty")
        return cls(resource, client_id.strip() if client_id else None,
                   cc.constant(element, "output-token-variable-name"),
                   cc.boolean(element, "ignore-error", False))

    async def run(self, ctx: Any, services: Any) -> None:
        """Get the token and set ``Authorization: Bearer <token>`` (and the output variable)."""
        name = self.spec.name
        resource = text_of(self.resource, ctx).strip()
        identity = getattr(services, "managed_identity", None)
        if identity is None or not resource:
            if self.ignore_error:
                ctx.note(name, "no token (ignore-error)")
                return
            why = "the gateway has no managed identity" if identity is None else "the resource is empty"
            raise PolicyError(f"Could not obtain a managed identity token: {why}.", source=name,
                              reason="ManagedIdentityUnavailable")
        token = identity.token(resource, self.client_id)
        ctx.request_headers.set("Authorization", [f"Bearer {token}"])
        if self.output:
            ctx.variables[self.output] = token
        if ctx.trace is not None:  # the message is built only when tracing
            ctx.note(name, f"token for {resource} ({'user-assigned ' + self.client_id if self.client_id else 'system-assigned'})")
