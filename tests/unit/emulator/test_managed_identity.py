"""The gateway identity's tokens (claims, cache) and the bearer check of the simulated Azure OpenAI."""

from __future__ import annotations

import json

from toolkit.emulator.jwt_issuer import TestIssuer, b64url
from toolkit.emulator.managed_identity import COGNITIVE_SERVICES, COGNITIVE_SERVICES_AUDIENCES, BearerVerifier, ManagedIdentity

ISSUER = "https://sts.emulator.invalid/toolkit/v2.0"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def _claims(token: str) -> dict:
    import base64

    segment = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def _setup():
    clock = Clock()
    issuer = TestIssuer(ISSUER, seed=3, clock=clock)
    return clock, issuer, ManagedIdentity(issuer, clock), BearerVerifier(issuer, clock, COGNITIVE_SERVICES_AUDIENCES)


def test_system_assigned_token_claims_and_cache():
    clock, _, identity, _ = _setup()
    token = identity.token(COGNITIVE_SERVICES)
    claims = _claims(token)
    assert (claims["aud"], claims["iss"], claims["sub"], claims["oid"]) == (
        COGNITIVE_SERVICES, ISSUER, identity.principal_id, identity.principal_id)
    assert (claims["appid"], claims["idtyp"], claims["exp"] - claims["iat"]) == (identity.client_id, "app", 3600)
    assert identity.token(COGNITIVE_SERVICES) == token  # cached
    clock.now += 3600 - 299  # inside the last five minutes: a fresh token
    assert identity.token(COGNITIVE_SERVICES) != token


def test_user_assigned_identity_has_its_own_client_and_principal():
    _, _, identity, _ = _setup()
    claims = _claims(identity.token(COGNITIVE_SERVICES, "11111111-2222-3333-4444-555555555555"))
    assert claims["appid"] == "11111111-2222-3333-4444-555555555555"
    assert claims["oid"] != identity.principal_id


def test_verifier_accepts_only_valid_tokens_for_the_audience():
    clock, issuer, identity, verify = _setup()
    good = identity.token(COGNITIVE_SERVICES)
    assert verify(good)
    assert verify(identity.token(COGNITIVE_SERVICES + "/"))
    assert not verify(identity.token("https://management.azure.com/"))
    assert not verify(issuer.mint_with_foreign_key(audience=COGNITIVE_SERVICES))
    assert not verify(TestIssuer("https://elsewhere.invalid", seed=4, clock=clock).mint(audience=COGNITIVE_SERVICES))
    header, payload, signature = good.split(".")
    assert not verify(".".join([header, b64url(json.dumps({**_claims(good), "aud": "x"}).encode()), signature]))
    clock.now += 3601
    assert not verify(good)  # expired, even though it was accepted before
