"""JWTs that validate-jwt must refuse, made from a valid one or minted by the emulator's test issuer.

On Azure only a valid token can be had (azure-identity); the negatives are synthesised from it by
changing claims, which also breaks their signature, so a refusal there shows the signature check at
least. On the emulator the issuer signs each negative properly, so each refusal shows its own rule.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from toolkit.validate.control import ControlClient

WRONG_AUDIENCE = "api://not-this-gateway"
WRONG_ISSUER = "https://wrong-issuer.invalid/v2.0"
HOUR = 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(segment: str) -> dict[str, Any]:
    return dict(json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))))


def resign(token: str, *, header: dict[str, Any] | None = None, claims: dict[str, Any] | None = None,
           signature: str | None = None) -> str:
    """``token`` with header fields and claims replaced (its old signature kept unless given)."""
    head, body, old_signature = token.split(".")
    new_head = {k: v for k, v in {**_decode(head), **(header or {})}.items() if v is not None}
    new_body = {k: v for k, v in {**_decode(body), **(claims or {})}.items() if v is not None}  # None: left out
    return f"{_b64(json.dumps(new_head).encode())}.{_b64(json.dumps(new_body).encode())}." \
           f"{old_signature if signature is None else signature}"


def tampered_signature(token: str) -> str:
    """The same header and claims with the signature's bytes flipped."""
    head, body, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)) or b"\0")
    raw[len(raw) // 2] ^= 0xFF
    return f"{head}.{body}.{_b64(bytes(raw))}"


def negative_token(case: str, valid: str, audience: str, control: ControlClient | None) -> str | None:
    """The token for ``case`` (None: send no token). ``wrong-scheme`` is the valid token (sent without its scheme)."""
    if case == "missing":
        return None
    if case == "wrong-scheme":
        return valid
    if case == "bad-signature":
        return tampered_signature(valid)
    if case == "alg-none":
        return resign(valid, header={"alg": "none", "kid": None}, signature="")
    now = control.now() if control is not None else float(_decode(valid.split(".")[1]).get("iat", 0))
    if control is not None:
        options: dict[str, Any] = {
            "expired": {"audience": audience, "expires_in": -HOUR, "claims": {"nbf": int(now - 2 * HOUR),
                                                                              "iat": int(now - 2 * HOUR)}},
            "not-yet-valid": {"audience": audience, "claims": {"nbf": int(now + HOUR)}},
            "wrong-audience": {"audience": WRONG_AUDIENCE},
            "wrong-issuer": {"audience": audience, "claims": {"iss": WRONG_ISSUER}},
            "no-expiry": {"audience": audience, "expires_in": None},
        }[case]
        return control.token(**options)
    claims = {
        "expired": {"exp": int(now - HOUR), "nbf": int(now - 2 * HOUR)},
        "not-yet-valid": {"nbf": int(now + 10 * HOUR), "exp": int(now + 11 * HOUR)},
        "wrong-audience": {"aud": WRONG_AUDIENCE},
        "wrong-issuer": {"iss": WRONG_ISSUER},
        "no-expiry": {"exp": None},
    }[case]
    return resign(valid, claims=claims)
