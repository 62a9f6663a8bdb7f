"""``<validate-azure-ad-token>``: refuse requests without a valid Microsoft Entra ID token.

The emulator has no Entra ID: the gateway's test issuer stands in for it. ``services.azure_ad_authority
(tenant-id)`` names its openid-config document and the issuers accepted for the tenant; keys are
fetched and cached like validate-jwt's. Checks: signature, lifetime (``exp`` required), issuer,
audience (``<audiences>`` plus ``<backend-application-ids>``, each also as ``api://<id>``), the
client application (``azp``, or ``appid`` of v1 tokens, must be one of ``<client-application-ids>`` when given)
and ``<required-claims>``.

Policy expressions are taken where validate-azure-ad-token-policy.md allows them, as validate-jwt takes
them: tenant-id (the authority is then chosen per request), header-name, query-parameter-name,
failed-validation-httpcode, failed-validation-error-message and the ``<audience>`` texts.
``authentication-endpoint`` names the Entra ID cloud whose issuer the token must come from; the
emulator's stand-in authority plays only the public cloud, so only login.microsoftonline.com is
accepted and another cloud is refused as the emulator's limit.
"""

from __future__ import annotations

from typing import Any

from toolkit.emulator.jwt_validation import JwtRequirements, JwtValidationError, validate_jwt
from toolkit.emulator.policy.apim_reference import emulator_limit
from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.errors import ExpressionFailure, PolicyError
from toolkit.emulator.policy.jwt_support import (
    TokenSource,
    configured_failure,
    required_claims,
    single_children,
    text_list,
    texts_of,
)
from toolkit.emulator.policy.registry import handler
from toolkit.emulator.policy.values import IntSetting, text_of

CHILDREN = ("client-application-ids", "backend-application-ids", "audiences", "required-claims")
PUBLIC_CLOUD = "login.microsoftonline.com"


@handler(
    "validate-azure-ad-token",
    sections=("inbound",),
    attributes=("tenant-id", "header-name", "query-parameter-name", "token-value", "authentication-endpoint",
                "failed-validation-httpcode", "failed-validation-error-message", "output-token-variable-name"),
    required=("tenant-id",),
    children=CHILDREN,
    notes="Validated against the emulator's test issuer standing in for Entra ID (tenant → issuer and keys); "
    "client app from azp/appid, checked only when <client-application-ids> is given (real documents omit it); "
    "expressions in tenant-id, header-name, query-parameter-name, failed-validation-httpcode/-error-message and "
    "<audience>; authentication-endpoint only the public cloud (login.microsoftonline.com); decryption-keys are "
    "not supported. Default 401 JSON.",
)
class ValidateAzureAdToken(Policy):
    """Entra ID token validation."""

    __slots__ = ("tenant", "source", "status", "message", "clients", "audiences", "claims", "output")

    def __init__(self, tenant: Any, source: TokenSource, status: IntSetting, message: Any,
                 clients: tuple[str, ...] | None, audiences: tuple[Any, ...], claims: tuple[Any, ...],
                 output: str | None) -> None:
        super().__init__()
        self.tenant = tenant
        self.source = source
        self.status = status
        self.message = message
        self.clients = clients
        self.audiences = audiences
        self.claims = claims
        self.output = output

    @classmethod
    def compile(cls, element: Any, cc: Any) -> ValidateAzureAdToken:
        """Tenant, token source (Authorization by default), the id lists and claims."""
        tenant = cc.value(element, "tenant-id", expect="string")
        if not tenant.is_expression and not tenant.source.strip():
            raise cc.reject(element, "<validate-azure-ad-token> attribute 'tenant-id' is empty")
        _check_endpoint(element, cc)
        groups = single_children(element, CHILDREN, cc)
        clients: tuple[str, ...] | None = None  # optional: real documents omit it (then any client app)
        if "client-application-ids" in groups:
            clients = text_list(groups["client-application-ids"][0], "application-id", cc)
            if not clients:
                raise cc.reject(groups["client-application-ids"][0], "<client-application-ids> needs an <application-id>")
        backend_ids = text_list(groups["backend-application-ids"][0], "application-id", cc) \
            if "backend-application-ids" in groups else ()
        audiences = text_list(groups["audiences"][0], "audience", cc, expressions=True) if "audiences" in groups else ()
        audiences += tuple(a for b in backend_ids for a in (b, f"api://{b}"))
        return cls(
            tenant,
            TokenSource.compile(element, cc, default_header="Authorization", scheme="Bearer", expressions=True),
            cc.integer(element, "failed-validation-httpcode", default=401, minimum=100, maximum=599, expressions=True),
            cc.value(element, "failed-validation-error-message", expect="string"),
            clients,
            audiences,
            required_claims(groups["required-claims"][0], cc) if "required-claims" in groups else (),
            cc.constant(element, "output-token-variable-name"),
        )

    async def run(self, ctx: Any, services: Any) -> None:
        """Validate against the tenant's stand-in authority."""
        name = self.spec.name
        tenant = text_of(self.tenant, ctx).strip()
        if not tenant:
            raise ExpressionFailure("<validate-azure-ad-token> attribute 'tenant-id' evaluated to an empty tenant.",
                                    source=name)
        authority = services.azure_ad_authority(tenant)
        if authority is None or services.jwt_keys is None:
            raise PolicyError(f"No Entra ID stand-in is configured for tenant '{tenant}'.", source=name,
                              reason="AzureAdUnavailable")
        requirements = JwtRequirements(audiences=texts_of(self.audiences, ctx), issuers=authority.issuers,
                                       required_claims=self.claims)
        try:
            token = self.source.extract(ctx)
            if token is None:
                raise JwtValidationError("JWT not present.", reason="not_present")
            keys = services.jwt_keys.source(authority.openid_config_url)
            claims = await services.run_blocking(validate_jwt, token, requirements, keys, services.clock())
            client = claims.get("azp", claims.get("appid"))
            if self.clients is not None and client not in self.clients:
                raise JwtValidationError("JWT client application is not allowed.", reason="claim_mismatch")
        except JwtValidationError as exc:
            ctx.note(name, f"refused: {exc.reason}")
            raise configured_failure(name, exc, self.status, self.message, ctx) from None
        if self.output:
            ctx.variables[self.output] = claims
        ctx.note(name, "valid token")


def _check_endpoint(element: Any, cc: Any) -> None:
    """authentication-endpoint ("prefix https:// is optional"): the public cloud only (the stand-in's cloud)."""
    endpoint = cc.constant(element, "authentication-endpoint")
    if endpoint is None:
        return
    if endpoint.strip().lower().removeprefix("https://").rstrip("/") != PUBLIC_CLOUD:
        raise cc.reject(element, emulator_limit(
            f"authentication-endpoint '{endpoint}': its Entra ID stand-in plays only the public cloud ({PUBLIC_CLOUD})"))
