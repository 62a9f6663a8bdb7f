"""A test identity provider living in the emulator: RSA keys, OpenID discovery, JWKS, token minting.

It also mints deliberately bad tokens (unsigned, HS256 keyed with the public key, signed by a key
outside the JWKS) so the gateway's `validate-jwt` can be shown to refuse them. Test use only: with a
`seed`, keys come from a non-cryptographic random generator so that runs are reproducible.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import random
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
    from starlette.routing import Route

OPENID_CONFIG_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/.well-known/jwks.json"
DEFAULT_AUDIENCE = "api://apim-emulator"
DEFAULT_SUBJECT = "test-user"
RSA_ALGORITHMS = ("RS256", "RS512", "PS256")  # what APIM's validate-jwt accepts from an RSA key
KEY_BITS = 2048
_PUBLIC_EXPONENT = 65537


class _Default:
    """Marks "use the issuer's default" where None already means "leave the claim out"."""

    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT: Any = _Default()


def b64url(data: bytes) -> str:
    """Base64url without padding, as JOSE spells binary values."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_uint(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _json_segment(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def public_jwk(key: RSAPrivateKey, kid: str, alg: str = "RS256") -> dict[str, str]:
    """The RFC 7517 public JWK of an RSA key (no private members)."""
    numbers = key.public_key().public_numbers()
    return {"kty": "RSA", "kid": kid, "use": "sig", "alg": alg,
            "n": _b64url_uint(numbers.n), "e": _b64url_uint(numbers.e)}


def thumbprint(public_key: RSAPublicKey) -> str:
    """The RFC 7638 JWK thumbprint (SHA-256, base64url) of an RSA public key: a stable `kid`."""
    numbers = public_key.public_numbers()
    canonical = json.dumps({"e": _b64url_uint(numbers.e), "kty": "RSA", "n": _b64url_uint(numbers.n)},
                           separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode("ascii")).digest())


def generate_rsa_key(rng: random.Random | None = None) -> RSAPrivateKey:
    """A fresh RSA-2048 key: from the OS generator, or reproducibly from `rng` (tests only)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    if rng is None:
        return rsa.generate_private_key(public_exponent=_PUBLIC_EXPONENT, key_size=KEY_BITS)
    half = KEY_BITS // 2
    p = _seeded_prime(rng, half)
    q = _seeded_prime(rng, half)
    while q == p:
        q = _seeded_prime(rng, half)
    d = pow(_PUBLIC_EXPONENT, -1, (p - 1) * (q - 1))
    public = rsa.RSAPublicNumbers(_PUBLIC_EXPONENT, p * q)
    return rsa.RSAPrivateNumbers(
        p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q), public
    ).private_key()


_SMALL_PRIMES = [n for n in range(3, 5000, 2) if all(n % f for f in range(3, int(n**0.5) + 1, 2))]
_SMALL_PRIMES_PRODUCT = math.prod(_SMALL_PRIMES)  # one gcd replaces hundreds of trial divisions


def _seeded_prime(rng: random.Random, bits: int) -> int:
    # Top two bits set so that p*q has exactly 2*bits bits; p-1 coprime with e so d exists.
    while True:
        candidate = rng.getrandbits(bits) | (0b11 << (bits - 2)) | 1
        if (candidate - 1) % _PUBLIC_EXPONENT and _probable_prime(candidate, rng):
            return candidate


def _probable_prime(n: int, rng: random.Random, rounds: int = 5) -> bool:
    if math.gcd(n, _SMALL_PRIMES_PRODUCT) != 1:
        return n in _SMALL_PRIMES
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    # Miller-Rabin; 5 rounds on random 1024-bit candidates err below 2**-100 (FIPS 186-4, C.3)
    for _ in range(rounds):
        x = pow(rng.randrange(2, n - 1), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


class TestIssuer:
    """An OpenID issuer with RSA signing keys that mints good and deliberately bad JWTs."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self,
        issuer_url: str,
        *,
        key_count: int = 1,
        seed: int | None = None,
        keys: Sequence[RSAPrivateKey] | None = None,
        audience: str = DEFAULT_AUDIENCE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if key_count < 1 and not keys:
            raise ValueError("an issuer needs at least one key")
        self.issuer_url = issuer_url.rstrip("/")
        self.audience = audience
        self._clock = clock
        self._rng = random.Random(seed) if seed is not None else None
        self._keys: list[tuple[str, RSAPrivateKey]] = []
        for key in keys or [generate_rsa_key(self._rng) for _ in range(key_count)]:
            self._keys.append((thumbprint(key.public_key()), key))
        self._foreign: RSAPrivateKey | None = None

    # -- keys ---------------------------------------------------------------------------------------

    @property
    def kids(self) -> list[str]:
        """Key ids published in the JWKS; the first one signs by default."""
        return [kid for kid, _ in self._keys]

    def rotate(self) -> str:
        """Add a new key that becomes the default signer (old keys stay published); return its kid."""
        key = generate_rsa_key(self._rng)
        kid = thumbprint(key.public_key())
        self._keys.insert(0, (kid, key))
        return kid

    def retire(self, kid: str) -> None:
        """Stop publishing (and signing with) key `kid`."""
        if len(self._keys) == 1 and self._keys[0][0] == kid:
            raise ValueError("cannot retire the issuer's last key")
        self._keys = [(k, key) for k, key in self._keys if k != kid]

    def _key(self, kid: str | None) -> tuple[str, RSAPrivateKey]:
        if kid is None:
            return self._keys[0]
        for entry in self._keys:
            if entry[0] == kid:
                return entry
        raise ValueError(f"the issuer has no key with kid {kid!r}")

    # -- discovery ----------------------------------------------------------------------------------

    @property
    def jwks_uri(self) -> str:
        """Where `jwks()` is served."""
        return self.issuer_url + JWKS_PATH

    @property
    def openid_configuration_url(self) -> str:
        """Where `openid_configuration()` is served (the value for `<openid-config url>`)."""
        return self.issuer_url + OPENID_CONFIG_PATH

    def openid_configuration(self) -> dict[str, Any]:
        """The OpenID Connect discovery document."""
        return {
            "issuer": self.issuer_url,
            "jwks_uri": self.jwks_uri,
            "id_token_signing_alg_values_supported": list(RSA_ALGORITHMS),
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "claims_supported": ["iss", "sub", "aud", "exp", "nbf", "iat"],
        }

    def jwks(self) -> dict[str, Any]:
        """The JWK Set: public keys only."""
        return {"keys": [public_jwk(key, kid) for kid, key in self._keys]}

    # -- minting ------------------------------------------------------------------------------------

    def payload(
        self,
        claims: dict[str, Any] | None = None,
        *,
        audience: str | Sequence[str] | None = DEFAULT,
        subject: str | None = DEFAULT_SUBJECT,
        expires_in: float | None = 3600,
        not_before: float | None = None,
        now: float | None = None,
    ) -> dict[str, Any]:
        """The payload `mint` signs: iss, aud, sub, iat, nbf (default now), exp, then `claims` on top.

        A claim given as None is left out (`{"iss": None}` mints a token without an issuer).

        `expires_in` is relative to `now` (None leaves `exp` out); `not_before` is absolute epoch seconds.
        """
        issued = self._clock() if now is None else now
        aud = self.audience if audience is DEFAULT else audience
        payload: dict[str, Any] = {"iss": self.issuer_url}
        if aud is not None:
            payload["aud"] = aud if isinstance(aud, str) else list(aud)
        if subject is not None:
            payload["sub"] = subject
        payload["iat"] = int(issued)
        payload["nbf"] = int(issued if not_before is None else not_before)
        if expires_in is not None:
            payload["exp"] = int(issued + expires_in)
        payload.update(claims or {})
        return {name: value for name, value in payload.items() if value is not None}

    def mint(
        self,
        claims: dict[str, Any] | None = None,
        *,
        audience: str | Sequence[str] | None = DEFAULT,
        subject: str | None = DEFAULT_SUBJECT,
        expires_in: float | None = 3600,
        not_before: float | None = None,
        kid: str | None = None,
        alg: str = "RS256",
        headers: dict[str, Any] | None = None,
        now: float | None = None,
    ) -> str:
        """A token signed by key `kid` (default: the current key); valid for this issuer by default.

        `headers` are merged over {"alg", "typ", "kid"}, e.g. to name a kid the issuer does not have;
        a header given as None is left out.
        """
        if alg not in RSA_ALGORITHMS:
            raise ValueError(f"alg must be one of {RSA_ALGORITHMS}; bad tokens have their own helpers")
        key_id, key = self._key(kid)
        payload = self.payload(claims, audience=audience, subject=subject, expires_in=expires_in,
                              not_before=not_before, now=now)
        return _sign_rsa(payload, key, alg, {"kid": key_id, **(headers or {})})

    def mint_unsigned(self, claims: dict[str, Any] | None = None, **claim_options: Any) -> str:
        """A token with `alg: none` and an empty signature (`claim_options` as for `payload`)."""
        header = {"alg": "none", "typ": "JWT"}
        return f"{_json_segment(header)}.{_json_segment(self.payload(claims, **claim_options))}."

    def mint_hs256_with_public_key(self, claims: dict[str, Any] | None = None, **claim_options: Any) -> str:
        """The key-confusion attack: HS256 keyed with the published RSA public key (PEM), real kid."""
        from cryptography.hazmat.primitives import serialization

        kid, key = self._keys[0]
        secret = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        header = {"alg": "HS256", "typ": "JWT", "kid": kid}
        signing_input = f"{_json_segment(header)}.{_json_segment(self.payload(claims, **claim_options))}"
        signature = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
        return f"{signing_input}.{b64url(signature)}"

    def mint_with_foreign_key(
        self,
        claims: dict[str, Any] | None = None,
        *,
        known_kid: bool = True,
        alg: str = "RS256",
        **claim_options: Any,
    ) -> str:
        """A valid RS256 signature by a key outside the JWKS, naming a published kid or the key's own."""
        if self._foreign is None:
            self._foreign = generate_rsa_key(self._rng)
        kid = self._keys[0][0] if known_kid else thumbprint(self._foreign.public_key())
        return _sign_rsa(self.payload(claims, **claim_options), self._foreign, alg, {"kid": kid})


def _sign_rsa(payload: dict[str, Any], key: RSAPrivateKey, alg: str, headers: dict[str, Any]) -> str:
    # Signed here rather than with jwt.encode so that tests can put any header in (a numeric kid,
    # a lying alg); a header set to None is left out.
    from jwt.algorithms import get_default_algorithms

    header = {k: v for k, v in {"alg": alg, "typ": "JWT", **headers}.items() if v is not None}
    signing_input = f"{_json_segment(header)}.{_json_segment(payload)}"
    return f"{signing_input}.{b64url(get_default_algorithms()[alg].sign(signing_input.encode('ascii'), key))}"


def issuer_routes(issuer: TestIssuer) -> list[Route]:
    """GET routes for the discovery document and the JWKS, to mount at the path of `issuer.issuer_url`."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def openid_configuration(request: Request) -> JSONResponse:
        return JSONResponse(issuer.openid_configuration())

    async def jwks(request: Request) -> JSONResponse:
        return JSONResponse(issuer.jwks())

    return [
        Route(OPENID_CONFIG_PATH, openid_configuration, methods=["GET"]),
        Route(JWKS_PATH, jwks, methods=["GET"]),
    ]
