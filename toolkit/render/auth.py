"""How the rendered gateway authenticates to its backends (config ``auth`` -> policy, credentials, named values).

- Managed identity: ``<authentication-managed-identity resource="https://cognitiveservices.azure.com">``
  in the API's inbound section (the token then rides along every retry), with ``client-id`` for a
  user-assigned identity; the semantic cache's embeddings call always carries ``embeddings-backend-auth="system-assigned"``
  (APIM requires it and knows no other value).
- api-key: the key lives in a secret named value ``<backend>-api-key`` (or a Key Vault named value),
  and the backend sends it as ``credentials.header.api-key: ["{{<backend>-api-key}}"]``; an API-level
  key is set with ``<set-header name="api-key">`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.config.models import ApiConfig, BackendAuthConfig, BackendConfig, GatewayConfig, NamedValueConfig

COGNITIVE_SERVICES_RESOURCE = "https://cognitiveservices.azure.com"
API_KEY_HEADER = "api-key"


class AuthConfigError(ValueError):
    """An auth setting APIM cannot express; ``field`` is the dotted config path."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ApiAuth:
    """What an API's policy carries to authenticate: a managed identity and/or an api-key named value."""

    identity: BackendAuthConfig | None = None
    key_named_value: str | None = None
    embeddings_auth: str | None = None  # the embeddings-backend-auth attribute (APIM knows "system-assigned")


def key_named_value(owner: str) -> str:
    """The named value holding ``owner``'s api-key (owner: a backend or an API)."""
    return f"{owner}-{API_KEY_HEADER}"


def _backends_behind(gateway: GatewayConfig, api: ApiConfig) -> list[BackendConfig]:
    pool = gateway.pool(api.backend)
    names = [m.backend for m in pool.members] if pool else [api.backend]
    return [gateway.backend(name) for name in names]


def api_auth(gateway: GatewayConfig, api: ApiConfig, index: int = 0) -> ApiAuth:
    """The policy-side authentication of ``api`` (the API's own ``auth``, else its backends' identity)."""
    identity = api.auth if api.auth and api.auth.managed_identity else None
    if identity is None and api.auth is None:
        identities = {b.auth.client_id: b.auth for b in _backends_behind(gateway, api) if b.auth and b.auth.managed_identity}
        if len(identities) > 1:
            raise AuthConfigError(f"apis[{index}].auth", "the backends behind this API use different managed "
                                  "identities; one policy sends one token: set auth on the API")
        identity = next(iter(identities.values()), None)
    key = key_named_value(api.name) if api.auth and api.auth.uses_key else None
    return ApiAuth(identity, key, _embeddings_auth(gateway, api, index))


def _embeddings_auth(gateway: GatewayConfig, api: ApiConfig, index: int) -> str | None:
    if api.semantic_cache is None:
        return None
    # APIM requires embeddings-backend-auth and accepts only "system-assigned": the lookup always sends the
    # gateway's system-assigned token; an api-key embeddings backend adds its key through its credentials.
    backend = gateway.backend(api.semantic_cache.embeddings_backend)
    if backend.auth is not None and backend.auth.client_id:
        raise AuthConfigError(f"apis[{index}].semantic_cache.embeddings_backend",
                              f"backend {backend.name!r} uses a user-assigned identity; APIM's embeddings-backend-auth "
                              "supports system-assigned only: use managed-identity without client_id, or an api_key")
    return "system-assigned"


def backend_credentials(backend: BackendConfig) -> dict[str, dict[str, list[str]]] | None:
    """The backend's ``credentials`` when it authenticates with an api-key (else None)."""
    if backend.auth is None or not backend.auth.uses_key:
        return None
    return {"header": {API_KEY_HEADER: [f"{{{{{key_named_value(backend.name)}}}}}"]}}


def auth_named_values(gateway: GatewayConfig) -> list[NamedValueConfig]:
    """The named values that hold api-keys: secret ones (value from config) or Key Vault references."""
    owners: list[tuple[str, BackendAuthConfig]] = [(b.name, b.auth) for b in gateway.backends if b.auth]
    owners += [(a.name, a.auth) for a in gateway.apis if a.auth]
    values = []
    for owner, auth in owners:
        if not auth.uses_key:
            continue
        values.append(NamedValueConfig(name=key_named_value(owner), value=auth.api_key or "", secret=True,
                                       key_vault=auth.key_vault, identity_client_id=auth.identity_client_id))
    return values


def all_named_values(gateway: GatewayConfig) -> list[NamedValueConfig]:
    """The config's named values plus the api-key ones ``auth`` implies; a name used by both is refused."""
    declared = {nv.name for nv in gateway.named_values}
    derived = auth_named_values(gateway)
    for named_value in derived:
        if named_value.name in declared:
            raise AuthConfigError("named_values", f"{named_value.name!r} is the named value toolkit creates for "
                                  "an api_key/key_vault auth; rename yours")
    return [*gateway.named_values, *derived]
