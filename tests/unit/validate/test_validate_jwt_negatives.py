"""Negative JWTs synthesised from a valid one (the Azure path): each changes exactly what it claims to."""

from __future__ import annotations

import base64
import json

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from toolkit.validate.tokens import WRONG_AUDIENCE, WRONG_ISSUER, negative_token, tampered_signature

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
VALID = pyjwt.encode({"iss": "https://issuer", "aud": "api://gw", "iat": 1000, "nbf": 1000, "exp": 99999999999},
                     KEY, algorithm="RS256")


def _part(token: str, index: int) -> dict:
    segment = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def test_the_valid_token_verifies_and_a_tampered_one_does_not() -> None:
    public = KEY.public_key()
    pyjwt.decode(VALID, public, algorithms=["RS256"], audience="api://gw")
    with pytest.raises(pyjwt.InvalidSignatureError):
        pyjwt.decode(tampered_signature(VALID), public, algorithms=["RS256"], audience="api://gw")


@pytest.mark.parametrize(("case", "claim", "check"), [
    ("expired", "exp", lambda v: v < 1000),
    ("not-yet-valid", "nbf", lambda v: v > 1000),
    ("wrong-audience", "aud", lambda v: v == WRONG_AUDIENCE),
    ("wrong-issuer", "iss", lambda v: v == WRONG_ISSUER),
])
def test_synthesised_claims(case: str, claim: str, check) -> None:
    token = negative_token(case, VALID, "api://gw", None)
    assert check(_part(token, 1)[claim])


def test_alg_none_has_no_signature_and_missing_is_no_token() -> None:
    token = negative_token("alg-none", VALID, "api://gw", None)
    assert _part(token, 0)["alg"] == "none" and token.endswith(".")
    assert negative_token("missing", VALID, "api://gw", None) is None
