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


# -- exactly what each negative changes ----------------------------------------------------------------------

HEADED = pyjwt.encode({"iss": "https://issuer", "aud": "api://gw", "iat": 5000, "nbf": 5000, "exp": 9000, "x": "é"},
                      KEY, algorithm="RS256", headers={"kid": "key-1"})
HOUR = 3600


@pytest.mark.parametrize(("case", "changed"), [
    ("expired", {"exp": 5000 - HOUR, "nbf": 5000 - 2 * HOUR}),
    ("not-yet-valid", {"nbf": 5000 + 10 * HOUR, "exp": 5000 + 11 * HOUR}),
    ("wrong-audience", {"aud": WRONG_AUDIENCE}),
    ("wrong-issuer", {"iss": WRONG_ISSUER}),
    ("no-expiry", {"exp": None}),
])
def test_a_synthesised_negative_changes_its_claims_only_and_keeps_header_and_signature(case: str, changed) -> None:
    token = negative_token(case, HEADED, "api://gw", None)
    expected = {k: v for k, v in {**_part(HEADED, 1), **changed}.items() if v is not None}
    assert _part(token, 1) == expected and _part(token, 0) == _part(HEADED, 0)
    assert token.split(".")[2] == HEADED.split(".")[2] and "=" not in token


def test_a_token_without_iat_dates_its_negatives_from_the_epoch() -> None:
    no_iat = pyjwt.encode({"aud": "api://gw"}, KEY, algorithm="RS256")
    assert _part(negative_token("expired", no_iat, "api://gw", None), 1)["exp"] == -HOUR


def test_alg_none_drops_the_key_id_and_the_signature() -> None:
    token = negative_token("alg-none", HEADED, "api://gw", None)
    assert _part(token, 0) == {"alg": "none", "typ": "JWT"} and token.endswith(".") and token.count(".") == 2
    assert _part(token, 1) == _part(HEADED, 1)


def test_the_wrong_scheme_case_sends_the_valid_token() -> None:
    assert negative_token("wrong-scheme", HEADED, "api://gw", None) == HEADED


class _Issuer:
    """The emulator's control client as far as negatives need it: its clock and its token endpoint."""

    def __init__(self) -> None:
        self.asked: list[dict] = []

    def now(self) -> float:
        return 10_000.5

    def token(self, **options) -> str:
        self.asked.append(options)
        return f"minted-{len(self.asked)}"


@pytest.mark.parametrize(("case", "options"), [
    ("expired", {"audience": "api://gw", "expires_in": -HOUR, "claims": {"nbf": 10_000 - 2 * HOUR,
                                                                         "iat": 10_000 - 2 * HOUR}}),
    ("not-yet-valid", {"audience": "api://gw", "claims": {"nbf": 10_000 + HOUR}}),
    ("wrong-audience", {"audience": WRONG_AUDIENCE}),
    ("wrong-issuer", {"audience": "api://gw", "claims": {"iss": WRONG_ISSUER}}),
    ("no-expiry", {"audience": "api://gw", "expires_in": None}),
])
def test_on_the_emulator_each_negative_is_minted_by_its_issuer(case: str, options) -> None:
    issuer = _Issuer()
    assert negative_token(case, HEADED, "api://gw", issuer) == "minted-1"  # type: ignore[arg-type]
    assert issuer.asked == [options]


def test_a_tampered_signature_flips_the_middle_byte_only() -> None:
    for signature_bytes in (bytes(range(1, 8)), bytes(range(40, 72))):  # 10 and 43 base64 characters
        signature = base64.urlsafe_b64encode(signature_bytes).rstrip(b"=").decode()
        tampered = tampered_signature(f"h.b.{signature}").split(".")
        raw = base64.urlsafe_b64decode(tampered[2] + "=" * (-len(tampered[2]) % 4))
        flipped = bytearray(signature_bytes)
        flipped[len(flipped) // 2] ^= 0xFF
        assert tampered[:2] == ["h", "b"] and raw == bytes(flipped) and "=" not in tampered[2]
    assert tampered_signature("h.b.") == "h.b._w"  # no signature: one byte, flipped


def test_base64url_parts_lose_their_padding_only() -> None:
    from toolkit.validate.tokens import _b64

    assert (_b64(b"\0\0\x17"), _b64(b"\0\0\x17\0"), _b64(b"")) == ("AAAX", "AAAXAA", "")
