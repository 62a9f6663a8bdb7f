"""JWT validation as APIM's `validate-jwt` policy does it (pure: no I/O, time passed in).

Documented APIM behaviour (validate-jwt-policy.md): failures answer 401 by default with a message that
depends on the failure, e.g. "JWT not present."; `require-expiration-time` and `require-signed-tokens`
default to true; `clock-skew` defaults to 0 s; asymmetric algorithms RS256/RS512/PS256 are accepted,
HS256 only with symmetric keys given inline; `<openid-config>` keys are cached about an hour and refetched
at most every 5 minutes when a token names an unknown `kid`.

Only "JWT not present." is APIM's documented wording; every other message is the emulator's own, chosen
to say exactly which check failed. `JwtValidationError.reason` is a stable code for traces and tests.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from toolkit.errors import AuthError

ASYMMETRIC_ALGORITHMS: tuple[str, ...] = ("RS256", "RS512", "PS256")
SYMMETRIC_ALGORITHMS: tuple[str, ...] = ("HS256",)
SUPPORTED_ALGORITHMS: tuple[str, ...] = ASYMMETRIC_ALGORITHMS + SYMMETRIC_ALGORITHMS

JWKS_CACHE_SECONDS = 3600.0
UNKNOWN_KID_REFETCH_SECONDS = 300.0

_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")
_SHOWN_CHARS = 64  # token-supplied strings (kid, aud, iss) are cut to this length in messages


class JwtValidationError(AuthError):
    """A token failed validation; `message` is what the gateway answers, `reason` a stable code."""

    def __init__(self, message: str, *, reason: str, claim: str | None = None, value: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.claim = claim  # claim_missing / claim_mismatch: which claim, and the token's value of it
        self.value = value


@dataclass(frozen=True)
class ClaimRequirement:
    """One `<claim name match separator><value/>…</claim>` of `<required-claims>`."""

    name: str
    values: tuple[str, ...] = ()
    match: Literal["all", "any"] = "all"
    separator: str | None = None

    def __post_init__(self) -> None:
        # The policy parser refuses bad input with file and line; reaching here with it is a bug.
        if self.match not in ("all", "any"):
            raise ValueError(f"claim match must be 'all' or 'any', not {self.match!r}")
        object.__setattr__(self, "values", tuple(self.values))


@dataclass
class JwtRequirements:
    """What a `validate-jwt` element demands of a token (attributes and child elements)."""

    audiences: Sequence[str] = ()
    issuers: Sequence[str] = ()
    required_claims: Sequence[ClaimRequirement] = ()
    clock_skew_seconds: float = 0.0
    require_expiration_time: bool = True
    require_signed_tokens: bool = True
    require_scheme: str | None = None
    # Add "HS256" only when symmetric keys are configured inline, as APIM allows.
    algorithms: Sequence[str] = ASYMMETRIC_ALGORITHMS

    def __post_init__(self) -> None:
        unknown = [a for a in self.algorithms if a not in SUPPORTED_ALGORITHMS]
        if unknown:
            raise ValueError(f"unsupported JWT algorithm(s) {unknown}; supported: {SUPPORTED_ALGORITHMS}")
        if self.clock_skew_seconds < 0:
            raise ValueError("clock_skew_seconds must be >= 0")


@dataclass(frozen=True)
class SigningKey:
    """A verification key: an RSA public key, or the bytes of a symmetric (HMAC) key."""

    key: Any  # RSAPublicKey | bytes
    kid: str | None = None

    @property
    def symmetric(self) -> bool:
        """True for an HMAC secret, False for an RSA public key."""
        return isinstance(self.key, bytes)

    @classmethod
    def from_symmetric_base64(cls, value: str, kid: str | None = None) -> SigningKey:
        """An inline `<key>` holding a base64-encoded symmetric key."""
        try:
            raw = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("symmetric signing key is not valid base64") from exc
        if not raw:
            raise ValueError("symmetric signing key is empty")
        return cls(raw, kid)

    @classmethod
    def from_modulus_exponent(cls, n: str, e: str, kid: str | None = None) -> SigningKey:
        """An RSA public key from its modulus and exponent (base64 or base64url, as APIM's `n`/`e`)."""
        from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers

        modulus, exponent = _b64_int(n), _b64_int(e)
        return cls(RSAPublicNumbers(exponent, modulus).public_key(), kid)


class KeySource(Protocol):
    """Where `validate_jwt` finds verification keys."""

    def keys_for(self, kid: str | None) -> Sequence[SigningKey]:
        """Keys to try for a token with this `kid` (all keys when None); may raise JwtValidationError."""
        ...


def _matching(keys: Iterable[SigningKey], kid: str | None) -> list[SigningKey]:
    # A key without an id may verify any token; a token without a kid may be verified by any key.
    return [k for k in keys if kid is None or k.kid is None or k.kid == kid]


class StaticKeys:
    """A fixed set of keys: `<issuer-signing-keys>` given inline, or a JWKS document."""

    def __init__(self, keys: Iterable[SigningKey]) -> None:
        self._keys = list(keys)

    @classmethod
    def from_jwks(cls, jwks: Mapping[str, Any]) -> StaticKeys:
        """Keys from an RFC 7517 JWK Set (RSA signing keys; others are not APIM signing keys)."""
        return cls(keys_from_jwks(jwks))

    def keys_for(self, kid: str | None) -> Sequence[SigningKey]:
        """Keys whose id matches `kid`, plus keys without an id."""
        return _matching(self._keys, kid)


class KeyChain:
    """Several key sources tried together (several `<openid-config>`, plus inline keys)."""

    def __init__(self, *sources: KeySource) -> None:
        self._sources = sources

    def keys_for(self, kid: str | None) -> Sequence[SigningKey]:
        """Keys from every source; a source's fetch failure only counts when no source has a key."""
        found: list[SigningKey] = []
        failure: JwtValidationError | None = None
        for source in self._sources:
            try:
                found.extend(source.keys_for(kid))
            except JwtValidationError as exc:
                failure = failure or exc
        if not found and failure is not None:
            raise failure
        return found


def keys_from_jwks(jwks: Mapping[str, Any]) -> list[SigningKey]:
    """Parse the RSA signature keys of a JWK Set; raise ValueError when it is not a JWK Set."""
    entries = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(entries, list):
        raise ValueError("JWKS document has no 'keys' array")
    keys = []
    for jwk in entries:
        if not isinstance(jwk, Mapping) or jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig":
            continue
        n, e, kid = jwk.get("n"), jwk.get("e"), jwk.get("kid")
        if not isinstance(n, str) or not isinstance(e, str) or not (kid is None or isinstance(kid, str)):
            continue  # a broken entry must not hide the good ones
        try:
            keys.append(SigningKey.from_modulus_exponent(n, e, kid))
        except ValueError:
            continue
    return keys


@dataclass
class _CacheEntry:
    keys: list[SigningKey] | None = None
    fetched_at: float = float("-inf")  # last successful fetch
    attempted_at: float = float("-inf")  # last fetch attempt, successful or not
    error: str | None = None


class KeysNotCached(Exception):  # noqa: N818 - not an error: a signal to validate again where fetching is allowed
    """A key source that may not fetch (``fetch=False``) needs to: validate again off the event loop."""


class OpenIdKeyCache:
    """Keys behind `<openid-config url>` documents: cached 1 h, unknown-kid refetch at most every 5 min.

    `fetch_json(url)` returns a parsed JSON document or raises; the emulator injects a loopback-only
    fetcher, tests a fake. A failed refresh keeps serving the keys of the last good fetch; with no good
    fetch yet, validation fails with a message naming the URL. It is safe to share between threads.
    """

    def __init__(self, fetch_json: Callable[[str], Mapping[str, Any]], clock: Callable[[], float]) -> None:
        self._fetch_json = fetch_json
        self._clock = clock
        self._entries: dict[str, _CacheEntry] = {}
        self._lock = threading.Lock()

    def source(self, config_url: str, *, fetch: bool = True) -> KeySource:
        """A key source bound to one openid-config URL, for `validate_jwt` or a `KeyChain`.

        ``fetch=False``: a source that never fetches; it raises `KeysNotCached` when a fetch is due.
        """
        return _OpenIdSource(self, config_url, fetch)

    def keys_for(self, config_url: str, kid: str | None, *, fetch: bool = True) -> list[SigningKey]:
        """Keys for `kid` from the document at `config_url`, fetching when the cache says so
        (``fetch=False``: `KeysNotCached` instead of fetching)."""
        with self._lock:
            now = self._clock()
            entry = self._entries.get(config_url)
            if entry is None:  # not setdefault: that builds an entry on every request
                entry = self._entries[config_url] = _CacheEntry()
            if self._should_fetch(entry, kid, now):
                if not fetch:
                    raise KeysNotCached(config_url)
                self._refresh(config_url, entry, now)
            if entry.keys is None:
                raise JwtValidationError(
                    f"JWT signing keys unavailable: {entry.error}", reason="keys_unavailable"
                )
            return _matching(entry.keys, kid)

    @staticmethod
    def _should_fetch(entry: _CacheEntry, kid: str | None, now: float) -> bool:
        if entry.attempted_at == float("-inf"):
            return True
        if now - entry.attempted_at < UNKNOWN_KID_REFETCH_SECONDS:
            return False  # at most one fetch per 5 minutes, whatever the reason
        if entry.keys is None or now - entry.fetched_at >= JWKS_CACHE_SECONDS:
            return True
        return kid is not None and not _matching(entry.keys, kid)

    def _refresh(self, config_url: str, entry: _CacheEntry, now: float) -> None:
        entry.attempted_at = now
        try:
            entry.keys = self._fetch_keys(config_url)
        except Exception as exc:  # noqa: BLE001 - any fetch/parse failure becomes a validation failure
            entry.error = _describe_fetch_failure(config_url, exc)
            return
        entry.fetched_at = now
        entry.error = None

    def _fetch_keys(self, config_url: str) -> list[SigningKey]:
        config = self._fetch_json(config_url)
        jwks_uri = config.get("jwks_uri") if isinstance(config, Mapping) else None
        if not isinstance(jwks_uri, str) or not jwks_uri:
            raise ValueError("the document has no 'jwks_uri'")
        return keys_from_jwks(self._fetch_json(jwks_uri))


class _OpenIdSource:
    """An `OpenIdKeyCache` seen through one openid-config URL."""

    def __init__(self, cache: OpenIdKeyCache, config_url: str, fetch: bool) -> None:
        self._cache = cache
        self._url = config_url
        self._fetch = fetch

    def keys_for(self, kid: str | None) -> Sequence[SigningKey]:
        """Keys for `kid` from this URL's document."""
        return self._cache.keys_for(self._url, kid, fetch=self._fetch)


def _describe_fetch_failure(config_url: str, exc: Exception) -> str:
    lines = str(exc).splitlines()
    detail = f"{type(exc).__name__}: {lines[0][:200]}" if lines else type(exc).__name__
    return f"could not load keys from openid-config {config_url!r} ({detail})."


def token_from_header(value: str | None, require_scheme: str | None = None) -> str | None:
    """The token in a header value; None when absent. With a scheme ("Bearer"), it must be used.

    Without `require_scheme`, a leading "Bearer " is tolerated and removed, since clients send it
    by habit. Scheme names compare case-insensitively (RFC 7235).
    """
    text = (value or "").strip()
    if not text:
        return None
    scheme, _, rest = text.partition(" ")
    if require_scheme:
        if scheme.lower() != require_scheme.lower():
            raise JwtValidationError(
                f"JWT not present with the required authorization scheme '{require_scheme}'.",
                reason="wrong_scheme",
            )
        return rest.strip() or None
    if scheme.lower() == "bearer" and rest.strip():
        return rest.strip()
    return text


def validate_jwt(
    token: str | None, requirements: JwtRequirements, keys: KeySource, now: float
) -> dict[str, Any]:
    """Validate `token` at time `now` (epoch seconds) and return its claims, or raise JwtValidationError.

    With `requirements.require_scheme` set, `token` is the raw header value ("Bearer xyz").
    """
    if requirements.require_scheme:
        token = token_from_header(token, requirements.require_scheme)
    token = (token or "").strip()
    if not token:
        raise JwtValidationError("JWT not present.", reason="not_present")

    parsed = _parsed(token)
    claims = parsed.claims
    _check_signature(parsed, requirements, keys)
    _check_lifetime(claims, requirements, now)
    _check_audience(claims, requirements.audiences)
    _check_issuer(claims, requirements.issuers)
    for requirement in requirements.required_claims:
        _check_claim(claims, requirement)
    return _copied(claims)


class _Token:
    """A token's decoded parts; ``verified_with``: the key object that verified its signature (None: not yet)."""

    __slots__ = ("header", "claims", "signing_input", "signature", "verified_with")

    def __init__(self, header: dict[str, Any], claims: dict[str, Any], signing_input: bytes, signature: bytes) -> None:
        self.header = header
        self.claims = claims
        self.signing_input = signing_input
        self.signature = signature
        self.verified_with: Any = None


# Clients send the same token for its whole life: a token is decoded once and remembered by its exact text, with
# the key object that verified its signature (an RSA verification costs ~0.1 ms, the decoding ~10 µs). Every
# request still checks everything that depends on the policy or the time: the algorithm against the policy's list,
# that the verifying key is still among the keys the policy offers for the token's kid (a rotated, removed or
# replaced key verifies again; the key is held here, so its identity cannot be taken by another key), the lifetime,
# audiences, issuers and required claims. Only well-formed tokens up to MEMO_TOKEN_CHARS are remembered; the
# least recently used one is forgotten past PARSED_TOKENS.
PARSED_TOKENS = 1024
MEMO_TOKEN_CHARS = 8192
_tokens: OrderedDict[str, _Token] = OrderedDict()
_tokens_lock = threading.Lock()  # validation also runs in worker threads (openid-config fetches)


def _parsed(token: str) -> _Token:
    with _tokens_lock:
        known = _tokens.get(token)
        if known is not None:
            _tokens.move_to_end(token)
            return known
    parsed = _Token(*_parse(token))
    if len(token) <= MEMO_TOKEN_CHARS:
        with _tokens_lock:
            _tokens[token] = parsed
            if len(_tokens) > PARSED_TOKENS:
                _tokens.popitem(last=False)
    return parsed


def _copied(claims: dict[str, Any]) -> dict[str, Any]:
    """The caller's own copy of remembered claims (nested arrays and objects copied too)."""
    return {name: copy.deepcopy(value) if isinstance(value, (dict, list)) else value for name, value in claims.items()}


def _malformed(detail: str) -> JwtValidationError:
    return JwtValidationError(f"JWT is malformed: {detail}.", reason="malformed")


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return repr(text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…")


def _b64url_decode(segment: str, what: str) -> bytes:
    if not _B64URL.match(segment) or len(segment) % 4 == 1:
        raise _malformed(f"the {what} is not base64url")
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _b64_int(value: str) -> int:
    """A big-endian integer from base64 or base64url text (padding optional)."""
    text = value.strip().replace("-", "+").replace("_", "/").rstrip("=")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("RSA key component is not base64") from exc
    if not raw:
        raise ValueError("RSA key component is empty")
    return int.from_bytes(raw, "big")


def _json_object(segment: str, what: str) -> dict[str, Any]:
    raw = _b64url_decode(segment, what)
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _malformed(f"the {what} is not JSON") from None
    if not isinstance(value, dict):
        raise _malformed(f"the {what} is not a JSON object")
    return value


def _parse(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    parts = token.split(".")
    if len(parts) == 5:
        raise JwtValidationError(
            "JWT is encrypted (JWE); the emulator does not support decryption keys.", reason="encrypted"
        )
    if len(parts) != 3:
        raise _malformed("expected three dot-separated segments")
    header = _json_object(parts[0], "header")
    claims = _json_object(parts[1], "payload")
    signature = _b64url_decode(parts[2], "signature")
    return header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature


def _check_signature(parsed: _Token, requirements: JwtRequirements, keys: KeySource) -> None:
    header, signature = parsed.header, parsed.signature
    alg = header.get("alg")
    if not isinstance(alg, str) or not alg:
        raise _malformed("the header has no 'alg'")
    if "crit" in header:
        raise JwtValidationError(
            "JWT header has critical extensions ('crit') that are not supported.", reason="malformed"
        )
    if alg.lower() == "none":
        if requirements.require_signed_tokens:
            raise JwtValidationError(
                "JWT is not signed (alg 'none'); signed tokens are required.", reason="unsigned"
            )
        if signature:
            raise _malformed("an unsigned token (alg 'none') carries a signature")
        return
    if alg not in requirements.algorithms:
        raise JwtValidationError(
            f"JWT algorithm {_shown(alg)} is not allowed; allowed: {', '.join(requirements.algorithms)}.",
            reason="algorithm_not_allowed",
        )
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise _malformed("the header 'kid' is not a string")

    candidates = keys.keys_for(kid)
    if not candidates:
        if kid is None:
            raise JwtValidationError(
                "JWT signing key not found: no keys are configured.", reason="unknown_kid"
            )
        raise JwtValidationError(
            f"JWT signing key not found: no key with kid {_shown(kid)}.", reason="unknown_kid"
        )
    # The key kind follows the algorithm, never the other way round: an RSA public key is never
    # used as an HMAC secret (the HS256 key-confusion attack), nor a secret as an RSA key.
    wants_symmetric = alg in SYMMETRIC_ALGORITHMS
    usable = [k for k in candidates if k.symmetric == wants_symmetric]
    if not usable:
        kind = "symmetric" if wants_symmetric else "RSA"
        raise JwtValidationError(
            f"JWT signing key not found: no {kind} key for algorithm {alg}.", reason="unknown_kid"
        )
    remembered = parsed.verified_with
    if remembered is not None and any(k.key is remembered for k in usable):
        return  # this very key verified these bytes before: the check would give the same answer
    from jwt.algorithms import get_default_algorithms

    algorithm = get_default_algorithms()[alg]
    for k in usable:
        if algorithm.verify(parsed.signing_input, k.key, signature):
            parsed.verified_with = k.key
            return
    raise JwtValidationError("JWT signature is invalid.", reason="bad_signature")


def _number_claim(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _malformed(f"the '{name}' claim is not a number")
    return float(value)


def _check_lifetime(claims: Mapping[str, Any], requirements: JwtRequirements, now: float) -> None:
    skew = requirements.clock_skew_seconds
    expires = _number_claim(claims, "exp")
    not_before = _number_claim(claims, "nbf")
    if expires is None and requirements.require_expiration_time:
        raise JwtValidationError(
            "JWT has no expiration time ('exp' claim) and one is required.", reason="no_expiration"
        )
    if expires is not None and now >= expires + skew:
        raise JwtValidationError(
            f"JWT has expired ({now - expires:.0f} s ago; clock skew allowed {skew:g} s).", reason="expired"
        )
    if not_before is not None and now + skew < not_before:
        raise JwtValidationError(
            f"JWT is not yet valid (valid in {not_before - now:.0f} s; clock skew allowed {skew:g} s).",
            reason="not_yet_valid",
        )


def _check_audience(claims: Mapping[str, Any], audiences: Sequence[str]) -> None:
    if not audiences:
        return
    aud = claims.get("aud")
    values = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else None
    if not values:
        raise JwtValidationError("JWT has no audience ('aud' claim).", reason="audience")
    if not any(isinstance(v, str) and v in audiences for v in values):
        raise JwtValidationError(f"JWT audience {_shown(aud)} is not allowed.", reason="audience")


def _check_issuer(claims: Mapping[str, Any], issuers: Sequence[str]) -> None:
    if not issuers:
        return
    iss = claims.get("iss")
    if not isinstance(iss, str):
        raise JwtValidationError("JWT has no issuer ('iss' claim).", reason="issuer")
    if iss not in issuers:
        raise JwtValidationError(f"JWT issuer {_shown(iss)} is not allowed.", reason="issuer")


def _claim_values(value: Any, separator: str | None) -> list[str]:
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        text = item if isinstance(item, str) else json.dumps(item)  # true, 3, … as JSON spells them
        if separator:
            out.extend(part.strip() for part in text.split(separator))
        else:
            out.append(text)
    return out


def _check_claim(claims: Mapping[str, Any], requirement: ClaimRequirement) -> None:
    if requirement.name not in claims:
        raise JwtValidationError(
            f"JWT is missing required claim '{requirement.name}'.", reason="claim_missing", claim=requirement.name
        )
    if not requirement.values:
        return
    present = set(_claim_values(claims[requirement.name], requirement.separator))
    found = [v for v in requirement.values if v in present]
    ok = len(found) == len(requirement.values) if requirement.match == "all" else bool(found)
    if not ok:
        wanted = "all of" if requirement.match == "all" else "any of"
        raise JwtValidationError(
            f"JWT claim '{requirement.name}' does not contain {wanted} the required values.",
            reason="claim_mismatch", claim=requirement.name, value=", ".join(sorted(present)),
        )
