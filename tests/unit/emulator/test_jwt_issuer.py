"""The emulator's test issuer: minting, JWKS, discovery routes, deliberately bad tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers

from toolkit.emulator.jwt_issuer import (
    DEFAULT_AUDIENCE,
    JWKS_PATH,
    OPENID_CONFIG_PATH,
    TestIssuer,
    issuer_routes,
    thumbprint,
)

NOW = 1_700_000_000
ISSUER_URL = "http://testserver/issuer"
PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


@pytest.fixture(scope="module")
def issuer() -> TestIssuer:
    return TestIssuer(ISSUER_URL, key_count=2, clock=lambda: NOW)


def _segment(token: str, index: int) -> dict:
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _jwk_key(issuer: TestIssuer, kid: str):
    jwk = next(k for k in issuer.jwks()["keys"] if k["kid"] == kid)
    return jwt.PyJWK(jwk).key


def test_default_token_decodes_with_published_key_and_carries_standard_claims(issuer):
    token = issuer.mint()
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    assert header["kid"] == issuer.kids[0]

    claims = jwt.decode(
        token, _jwk_key(issuer, header["kid"]), algorithms=["RS256"],
        audience=DEFAULT_AUDIENCE, issuer=ISSUER_URL, options={"verify_exp": False, "verify_nbf": False},
    )
    assert claims == {"iss": ISSUER_URL, "aud": DEFAULT_AUDIENCE, "sub": "test-user",
                      "iat": NOW, "nbf": NOW, "exp": NOW + 3600}


def test_mint_options_shape_the_claims(issuer):
    token = issuer.mint({"roles": ["reader"], "sub": "override"}, audience=["a", "b"], expires_in=None,
                        not_before=NOW + 60, now=NOW + 5)
    claims = _segment(token, 1)
    assert claims["aud"] == ["a", "b"]
    assert claims["sub"] == "override"
    assert claims["roles"] == ["reader"]
    assert claims["iat"] == NOW + 5 and claims["nbf"] == NOW + 60
    assert "exp" not in claims

    bare = _segment(issuer.mint(audience=None, subject=None), 1)
    assert "aud" not in bare and "sub" not in bare


@pytest.mark.parametrize("alg", ["RS256", "RS512", "PS256"])
def test_mint_signs_with_the_chosen_key_and_algorithm(issuer, alg):
    kid = issuer.kids[1]
    token = issuer.mint(kid=kid, alg=alg, headers={"x-extra": "1"})
    header = jwt.get_unverified_header(token)
    assert (header["kid"], header["alg"], header["x-extra"]) == (kid, alg, "1")
    jwt.decode(token, _jwk_key(issuer, kid), algorithms=[alg], audience=DEFAULT_AUDIENCE,
               options={"verify_exp": False, "verify_nbf": False})
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, _jwk_key(issuer, issuer.kids[0]), algorithms=[alg], audience=DEFAULT_AUDIENCE,
                   options={"verify_exp": False, "verify_nbf": False})


def test_mint_refuses_unknown_kid_and_non_rsa_algorithms(issuer):
    with pytest.raises(ValueError, match="no key with kid"):
        issuer.mint(kid="nope")
    with pytest.raises(ValueError, match="alg must be one of"):
        issuer.mint(alg="HS256")


def test_jwks_publishes_public_rsa_keys_only(issuer):
    keys = issuer.jwks()["keys"]
    assert [k["kid"] for k in keys] == issuer.kids
    assert len(set(issuer.kids)) == 2
    for jwk in keys:
        assert set(jwk) == {"kty", "kid", "use", "alg", "n", "e"}
        assert not PRIVATE_JWK_MEMBERS & set(jwk)
        assert (jwk["kty"], jwk["use"], jwk["alg"], jwk["e"]) == ("RSA", "sig", "RS256", "AQAB")
        n = int.from_bytes(base64.urlsafe_b64decode(jwk["n"] + "=" * (-len(jwk["n"]) % 4)), "big")
        assert n.bit_length() == 2048


def test_kid_is_the_rfc7638_thumbprint():
    # RFC 7638 section 3.1 example key and its published thumbprint.
    n = (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJE"
        "CPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-"
        "65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"
        "bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    )
    modulus = int.from_bytes(base64.urlsafe_b64decode(n + "=" * (-len(n) % 4)), "big")
    key = RSAPublicNumbers(65537, modulus).public_key()
    assert thumbprint(key) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_openid_configuration_points_at_the_jwks(issuer):
    config = issuer.openid_configuration()
    assert config["issuer"] == ISSUER_URL
    assert config["jwks_uri"] == ISSUER_URL + JWKS_PATH
    assert "RS256" in config["id_token_signing_alg_values_supported"]
    assert issuer.openid_configuration_url == ISSUER_URL + OPENID_CONFIG_PATH


def test_seeded_issuers_are_reproducible():
    first = TestIssuer(ISSUER_URL, seed=7, clock=lambda: NOW)
    again = TestIssuer(ISSUER_URL, seed=7, clock=lambda: NOW)
    other = TestIssuer(ISSUER_URL, seed=8, clock=lambda: NOW)
    assert first.kids == again.kids
    assert first.mint() == again.mint()  # RS256 (PKCS#1 v1.5) signatures are deterministic
    assert first.kids != other.kids


def test_rotate_and_retire_change_the_published_keys():
    issuer = TestIssuer(ISSUER_URL, clock=lambda: NOW)
    old = issuer.kids[0]
    new = issuer.rotate()
    assert issuer.kids == [new, old]
    assert jwt.get_unverified_header(issuer.mint())["kid"] == new
    issuer.retire(old)
    assert [k["kid"] for k in issuer.jwks()["keys"]] == [new]
    with pytest.raises(ValueError, match="last key"):
        issuer.retire(new)


def test_unsigned_token_has_alg_none_and_no_signature(issuer):
    token = issuer.mint_unsigned({"role": "admin"})
    head, _, signature = token.split(".")
    assert signature == ""
    assert _segment(token, 0)["alg"] == "none"
    assert _segment(token, 1)["role"] == "admin"


def test_hs256_token_is_keyed_with_the_public_key_pem(issuer):
    token = issuer.mint_hs256_with_public_key()
    header = _segment(token, 0)
    assert (header["alg"], header["kid"]) == ("HS256", issuer.kids[0])
    pem = _jwk_key(issuer, issuer.kids[0]).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input, _, signature = token.rpartition(".")
    expected = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)) == expected


@pytest.mark.parametrize("known_kid", [True, False])
def test_foreign_key_token_is_well_signed_but_by_no_published_key(issuer, known_kid):
    token = issuer.mint_with_foreign_key(known_kid=known_kid)
    kid = jwt.get_unverified_header(token)["kid"]
    assert (kid in issuer.kids) is known_kid
    for published in issuer.kids:
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(token, _jwk_key(issuer, published), algorithms=["RS256"], audience=DEFAULT_AUDIENCE,
                       options={"verify_exp": False, "verify_nbf": False})


def test_routes_serve_discovery_and_jwks_as_json(issuer):
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.testclient import TestClient

    app = Starlette(routes=[Mount("/issuer", routes=issuer_routes(issuer))])
    with TestClient(app) as client:
        config = client.get(issuer.openid_configuration_url)
        assert config.status_code == 200
        assert config.headers["content-type"] == "application/json"
        assert config.json() == issuer.openid_configuration()

        keys = client.get(config.json()["jwks_uri"])
        assert keys.status_code == 200
        assert keys.json() == issuer.jwks()

        assert client.post(issuer.jwks_uri).status_code == 405
        assert client.get(ISSUER_URL + "/nothing-here").status_code == 404
