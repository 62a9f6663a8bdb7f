"""The gateway's managed identity, played by the emulator's own issuer, and the check its audiences make.

On Azure, ``authentication-managed-identity`` asks Microsoft Entra ID for a token of the APIM instance's
identity (system-assigned, or a user-assigned one named by ``client-id``) for a resource such as
``https://cognitiveservices.azure.com``; Azure OpenAI then accepts it. Here the emulator's issuer
(:mod:`toolkit.emulator.jwt_issuer`) mints it: ``aud`` = the resource as requested, ``sub``/``oid`` =
the identity's principal id, ``appid`` = its client id, ``idtyp`` = ``app``. Tokens are cached per
(resource, client id) until five minutes before they expire, as APIM caches them.

Emulator decisions: the system-assigned identity's ids are fixed per emulator (derived from the
issuer URL); any user-assigned ``client-id`` is accepted (APIM fails when that identity is not
assigned to the instance; the emulator cannot know which are).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from toolkit.emulator.jwt_validation import JwtRequirements, JwtValidationError, StaticKeys, validate_jwt

COGNITIVE_SERVICES = "https://cognitiveservices.azure.com"
COGNITIVE_SERVICES_AUDIENCES = (COGNITIVE_SERVICES, COGNITIVE_SERVICES + "/")
TOKEN_LIFETIME = 3600.0
_REFRESH_BEFORE = 300.0
ACCEPTED_TOKENS = 1024  # tokens a verifier remembers; past that it starts over (the gateway reuses one per identity)


class ManagedIdentity:
    """Mints (and caches) the gateway identity's access tokens from the emulator's issuer."""

    def __init__(self, issuer: Any, clock: Callable[[], float]) -> None:
        self._issuer = issuer
        self._clock = clock
        namespace = uuid.uuid5(uuid.NAMESPACE_URL, str(issuer.issuer_url))
        self.principal_id = str(uuid.uuid5(namespace, "system-assigned principal"))
        self.client_id = str(uuid.uuid5(namespace, "system-assigned client"))
        self.tenant_id = str(uuid.uuid5(namespace, "tenant"))
        self._cache: dict[tuple[str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def token(self, resource: str, client_id: str | None = None) -> str:
        """An access token for ``resource`` (system-assigned identity unless ``client_id`` names a user-assigned one)."""
        client = client_id or self.client_id
        now = self._clock()
        with self._lock:
            cached = self._cache.get((resource, client))
            if cached is not None and cached[1] - _REFRESH_BEFORE > now:
                return cached[0]
        principal = self.principal_id if not client_id else str(uuid.uuid5(uuid.NAMESPACE_OID, client_id))
        claims = {"oid": principal, "appid": client, "tid": self.tenant_id, "idtyp": "app"}
        token = str(self._issuer.mint(claims, audience=resource, subject=principal, expires_in=TOKEN_LIFETIME,
                                      now=now))
        with self._lock:
            self._cache[(resource, client)] = (token, now + TOKEN_LIFETIME)
        return token


class BearerVerifier:
    """Accepts tokens of the emulator's issuer for one of ``audiences`` (signature, lifetime, aud, iss)."""

    def __init__(self, issuer: Any, clock: Callable[[], float], audiences: Iterable[str]) -> None:
        self._issuer = issuer
        self._clock = clock
        self._requirements = JwtRequirements(audiences=tuple(audiences), issuers=(str(issuer.issuer_url),))
        self._accepted: dict[str, float] = {}  # token -> exp: the gateway reuses its cached token
        self._lock = threading.Lock()

    def __call__(self, token: str) -> bool:
        """Whether ``token`` is valid now."""
        now = self._clock()
        with self._lock:
            expires = self._accepted.get(token)
        if expires is not None and expires > now:
            return True
        try:
            claims = validate_jwt(token, self._requirements, StaticKeys.from_jwks(self._issuer.jwks()), now)
        except JwtValidationError:
            return False
        with self._lock:
            if len(self._accepted) > ACCEPTED_TOKENS:
                self._accepted.clear()
            self._accepted[token] = float(claims["exp"])  # validate_jwt requires an expiry (the default)
        return True
