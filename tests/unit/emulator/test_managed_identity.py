"""The gateway identity's tokens (claims, cache) and the bearer check of the simulated Azure OpenAI."""

from __future__ import annotations

import json
import uuid

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


def test_the_identity_ids_are_fixed_per_issuer_and_distinct():
    clock = Clock()
    first, again = (ManagedIdentity(TestIssuer(ISSUER, seed=3, clock=clock), clock) for _ in range(2))
    other = ManagedIdentity(TestIssuer("https://elsewhere.invalid", seed=3, clock=clock), clock)
    ids = (first.principal_id, first.client_id, first.tenant_id)
    assert all(str(uuid.UUID(value)) == value for value in ids) and len(set(ids)) == 3
    assert (again.principal_id, again.client_id, again.tenant_id) == ids
    assert not {other.principal_id, other.client_id, other.tenant_id} & set(ids)
    assert _claims(first.token(COGNITIVE_SERVICES))["tid"] == first.tenant_id


def test_each_user_assigned_identity_has_a_principal_of_its_own():
    _, _, identity, _ = _setup()
    principals = {_claims(identity.token(COGNITIVE_SERVICES, client))["oid"]
                  for client in ("11111111-2222-3333-4444-555555555555", "66666666-7777-8888-9999-000000000000")}
    assert len(principals) == 2 and all(str(uuid.UUID(p)) == p for p in principals)


def test_a_token_is_minted_once_and_lives_an_hour_from_the_identity_clock(monkeypatch):
    clock, issuer, identity, _ = _setup()
    minted = []
    mint = issuer.mint
    monkeypatch.setattr(issuer, "mint", lambda *a, **k: minted.append(k) or mint(*a, **k))
    issuer._clock = lambda: 0.0  # the identity's clock decides, never the issuer's
    token = identity.token(COGNITIVE_SERVICES)
    assert (_claims(token)["iat"], _claims(token)["exp"]) == (clock.now, clock.now + 3600)
    clock.now += 3600 - 301
    assert identity.token(COGNITIVE_SERVICES) == token and len(minted) == 1  # still more than five minutes left
    clock.now += 1  # exactly five minutes left: refreshed
    assert identity.token(COGNITIVE_SERVICES) != token and len(minted) == 2


def test_a_token_lives_as_long_as_the_identity_says(monkeypatch):
    from toolkit.emulator import managed_identity

    monkeypatch.setattr(managed_identity, "TOKEN_LIFETIME", 1800.0)
    _, _, identity, _ = _setup()
    claims = _claims(identity.token(COGNITIVE_SERVICES))
    assert claims["exp"] - claims["iat"] == 1800


def test_the_verifier_refuses_a_token_of_its_keys_with_another_issuer():
    clock, issuer, _, verify = _setup()
    assert verify(issuer.mint(audience=COGNITIVE_SERVICES))
    assert not verify(issuer.mint({"iss": "https://sts.evil.invalid/v2.0"}, audience=COGNITIVE_SERVICES))


def test_the_verifier_remembers_a_token_until_it_expires(monkeypatch):
    from toolkit.emulator import managed_identity

    clock, _, identity, verify = _setup()
    validations = []
    validate = managed_identity.validate_jwt
    monkeypatch.setattr(managed_identity, "validate_jwt", lambda *a: validations.append(a) or validate(*a))
    token = identity.token(COGNITIVE_SERVICES)
    assert verify(token) and verify(token) and len(validations) == 1  # the gateway reuses its token: checked once
    clock.now += 3600 - 1
    assert verify(token) and len(validations) == 1
    clock.now += 1  # at its expiry: refused, and checked again to be sure
    assert not verify(token) and len(validations) == 2


def test_the_verifier_memo_is_bounded(monkeypatch):
    from toolkit.emulator import managed_identity

    monkeypatch.setattr(managed_identity, "ACCEPTED_TOKENS", 3)
    _, issuer, _, verify = _setup()
    tokens = [issuer.mint(audience=COGNITIVE_SERVICES, subject=f"s{n}") for n in range(5)]
    sizes = []
    for token in tokens:
        assert verify(token)
        sizes.append(len(verify._accepted))
    assert sizes == [1, 2, 3, 4, 1]  # the fifth found more than three remembered: it started over
