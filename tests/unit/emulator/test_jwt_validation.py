"""validate-jwt semantics: a corpus of bad tokens, the valid cases, and the openid-config key cache."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import jwt
import pytest

from toolkit.emulator.jwt_issuer import DEFAULT_AUDIENCE, TestIssuer, b64url
from toolkit.emulator.jwt_validation import (
    ASYMMETRIC_ALGORITHMS,
    ClaimRequirement,
    JwtRequirements,
    JwtValidationError,
    KeyChain,
    OpenIdKeyCache,
    SigningKey,
    StaticKeys,
    token_from_header,
    validate_jwt,
)

NOW = 1_700_000_000.0
ISSUER_URL = "http://127.0.0.1:9/issuer"
# APIM's documented openid-config behaviour, spelled out rather than imported so the tests pin it.
HOUR = 3600
FIVE_MINUTES = 300


@pytest.fixture(scope="module")
def issuer() -> TestIssuer:
    return TestIssuer(ISSUER_URL, clock=lambda: NOW)


@pytest.fixture
def keys(issuer: TestIssuer) -> StaticKeys:
    return StaticKeys.from_jwks(issuer.jwks())


def requirements(**overrides) -> JwtRequirements:
    base = {"audiences": [DEFAULT_AUDIENCE], "issuers": [ISSUER_URL]}
    return JwtRequirements(**{**base, **overrides})


def _json_b64(value) -> str:
    return b64url(json.dumps(value).encode())


def _tamper_payload(token: str) -> str:
    head, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "admin"
    return f"{head}.{_json_b64(claims)}.{signature}"


def _flip_signature_byte(token: str) -> str:
    head, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[10] ^= 0x01
    return f"{head}.{payload}.{b64url(bytes(raw))}"


Maker = Callable[[TestIssuer], "str | None"]

# (id, token maker, requirement overrides, reason, words the message must contain)
BAD_TOKENS: list[tuple[str, Maker, dict, str, str]] = [
    ("missing", lambda i: None, {}, "not_present", "JWT not present."),
    ("blank", lambda i: "   ", {}, "not_present", "JWT not present."),
    ("scheme-without-token", lambda i: "Bearer ", {"require_scheme": "Bearer"}, "not_present",
     "JWT not present."),
    ("wrong-scheme", lambda i: "Basic " + i.mint(), {"require_scheme": "Bearer"}, "wrong_scheme",
     "scheme 'Bearer'"),
    ("no-scheme", lambda i: i.mint(), {"require_scheme": "Bearer"}, "wrong_scheme", "scheme 'Bearer'"),
    ("two-parts", lambda i: "abc.def", {}, "malformed", "three dot-separated segments"),
    ("truncated", lambda i: i.mint()[:40], {}, "malformed", "three dot-separated segments"),
    ("bad-base64-header", lambda i: "!!!." + i.mint().split(".", 1)[1], {}, "malformed",
     "header is not base64url"),
    ("non-json-header", lambda i: b64url(b"not json") + ".e30.", {}, "malformed", "header is not JSON"),
    ("header-not-object", lambda i: _json_b64([1]) + ".e30.", {}, "malformed", "header is not a JSON object"),
    ("non-json-payload", lambda i: _json_b64({"alg": "RS256"}) + "." + b64url(b"\xff\xfe") + ".",
     {}, "malformed", "payload is not JSON"),
    ("bad-base64-signature", lambda i: i.mint() + "*", {}, "malformed", "signature is not base64url"),
    ("no-alg", lambda i: _json_b64({"typ": "JWT"}) + ".e30.", {}, "malformed", "no 'alg'"),
    ("crit-header", lambda i: i.mint(headers={"crit": ["exp"]}), {}, "malformed", "crit"),
    ("encrypted-jwe", lambda i: "a.b.c.d.e", {}, "encrypted", "encrypted (JWE)"),
    ("alg-none", lambda i: i.mint_unsigned(), {}, "unsigned", "not signed (alg 'none')"),
    ("alg-none-with-signature", lambda i: i.mint_unsigned() + "c2ln", {"require_signed_tokens": False},
     "malformed", "carries a signature"),
    ("hs256-with-public-key", lambda i: i.mint_hs256_with_public_key(), {}, "algorithm_not_allowed",
     "algorithm 'HS256' is not allowed"),
    ("hs256-with-public-key-when-hs256-allowed", lambda i: i.mint_hs256_with_public_key(),
     {"algorithms": (*ASYMMETRIC_ALGORITHMS, "HS256")}, "unknown_kid",
     "no symmetric key for algorithm HS256"),
    ("alg-outside-apim-list", lambda i: i.mint(headers={"alg": "RS384"}), {}, "algorithm_not_allowed",
     "algorithm 'RS384' is not allowed"),
    ("unknown-kid", lambda i: i.mint(headers={"kid": "no-such-key"}), {}, "unknown_kid",
     "no key with kid 'no-such-key'"),
    ("non-string-kid", lambda i: i.mint(headers={"kid": 7}), {}, "malformed", "'kid' is not a string"),
    ("foreign-key-known-kid", lambda i: i.mint_with_foreign_key(known_kid=True), {}, "bad_signature",
     "signature is invalid"),
    ("foreign-key-unknown-kid", lambda i: i.mint_with_foreign_key(known_kid=False), {}, "unknown_kid",
     "no key with kid"),
    ("tampered-payload", lambda i: _tamper_payload(i.mint()), {}, "bad_signature", "signature is invalid"),
    ("tampered-signature", lambda i: _flip_signature_byte(i.mint()), {}, "bad_signature",
     "signature is invalid"),
    ("signature-stripped", lambda i: i.mint().rsplit(".", 1)[0] + ".", {}, "bad_signature",
     "signature is invalid"),
    ("expired", lambda i: i.mint(now=NOW - 7200, expires_in=3600), {}, "expired", "expired (3600 s ago"),
    ("expired-at-exp", lambda i: i.mint(now=NOW - 3600, expires_in=3600), {}, "expired", "expired"),
    ("expired-beyond-skew", lambda i: i.mint(now=NOW - 3720, expires_in=3600), {"clock_skew_seconds": 60},
     "expired", "clock skew allowed 60 s"),
    ("nbf-in-future", lambda i: i.mint(not_before=NOW + 600), {}, "not_yet_valid", "not yet valid"),
    ("nbf-beyond-skew", lambda i: i.mint(not_before=NOW + 600), {"clock_skew_seconds": 300},
     "not_yet_valid", "not yet valid"),
    ("missing-exp", lambda i: i.mint(expires_in=None), {}, "no_expiration", "no expiration time"),
    ("exp-not-a-number", lambda i: i.mint({"exp": "tomorrow"}), {}, "malformed",
     "'exp' claim is not a number"),
    ("wrong-audience", lambda i: i.mint(audience="api://someone-else"), {}, "audience",
     "audience 'api://someone-else' is not allowed"),
    ("wrong-audience-list", lambda i: i.mint(audience=["x", "y"]), {}, "audience", "is not allowed"),
    ("missing-audience", lambda i: i.mint(audience=None), {}, "audience", "no audience"),
    ("wrong-issuer", lambda i: i.mint({"iss": "https://evil.example"}), {}, "issuer",
     "issuer 'https://evil.example' is not allowed"),
    ("missing-issuer", lambda i: i.mint({"iss": None}), {}, "issuer", "no issuer"),
    ("required-claim-missing", lambda i: i.mint(),
     {"required_claims": [ClaimRequirement("roles", ("reader",))]}, "claim_missing",
     "missing required claim 'roles'"),
    ("required-claim-wrong-value", lambda i: i.mint({"roles": ["writer"]}),
     {"required_claims": [ClaimRequirement("roles", ("reader",))]}, "claim_mismatch",
     "claim 'roles' does not contain all of"),
    ("required-claims-all-but-one-present", lambda i: i.mint({"roles": ["reader"]}),
     {"required_claims": [ClaimRequirement("roles", ("reader", "writer"), match="all")]}, "claim_mismatch",
     "all of the required values"),
    ("required-claim-any-none-present", lambda i: i.mint({"roles": ["guest"]}),
     {"required_claims": [ClaimRequirement("roles", ("reader", "writer"), match="any")]}, "claim_mismatch",
     "any of the required values"),
    ("required-claim-unsplit-without-separator", lambda i: i.mint({"scp": "read write"}),
     {"required_claims": [ClaimRequirement("scp", ("read",))]}, "claim_mismatch", "claim 'scp'"),
]


@pytest.mark.parametrize(
    ("make", "overrides", "reason", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_TOKENS],
)
def test_bad_token_is_refused_with_a_specific_message(issuer, keys, make, overrides, reason, words):
    token = make(issuer)
    with pytest.raises(JwtValidationError) as caught:
        validate_jwt(token, requirements(**overrides), keys, NOW)
    assert caught.value.reason == reason
    assert words in caught.value.message
    assert caught.value.exit_code == 4  # an AuthError if it ever reaches the CLI
    bare = token_from_header(token) if token else None
    if bare and len(bare) > 20:
        assert bare not in caught.value.message  # tokens are secrets: never echoed


def test_bad_token_corpus_covers_the_required_kinds():
    reasons = {case[3] for case in BAD_TOKENS}
    assert {"not_present", "wrong_scheme", "malformed", "unsigned", "algorithm_not_allowed", "unknown_kid",
            "bad_signature", "expired", "not_yet_valid", "no_expiration", "audience", "issuer",
            "claim_missing", "claim_mismatch"} <= reasons


# (id, token maker, requirement overrides)
VALID_TOKENS: list[tuple[str, Maker, dict]] = [
    ("default", lambda i: i.mint(), {}),
    ("bearer-header", lambda i: "Bearer " + i.mint(), {"require_scheme": "Bearer"}),
    ("bearer-scheme-case-insensitive", lambda i: "bearer " + i.mint(), {"require_scheme": "Bearer"}),
    ("rs512", lambda i: i.mint(alg="RS512"), {}),
    ("ps256", lambda i: i.mint(alg="PS256"), {}),
    ("no-kid-tries-every-key", lambda i: i.mint(headers={"kid": None}), {}),
    ("expired-within-skew", lambda i: i.mint(now=NOW - 3630, expires_in=3600), {"clock_skew_seconds": 60}),
    ("nbf-within-skew", lambda i: i.mint(not_before=NOW + 30), {"clock_skew_seconds": 60}),
    ("one-second-before-exp", lambda i: i.mint(now=NOW - 3599, expires_in=3600), {}),
    ("no-exp-when-not-required", lambda i: i.mint(expires_in=None), {"require_expiration_time": False}),
    ("unsigned-when-allowed", lambda i: i.mint_unsigned(), {"require_signed_tokens": False}),
    ("audience-list-with-one-match", lambda i: i.mint(audience=["x", DEFAULT_AUDIENCE]), {}),
    ("no-audience-or-issuer-configured", lambda i: i.mint(audience="x", claims={"iss": "y"}),
     {"audiences": [], "issuers": []}),
    ("required-claim-present", lambda i: i.mint({"tid": "t1"}),
     {"required_claims": [ClaimRequirement("tid")]}),
    ("required-claim-all", lambda i: i.mint({"roles": ["writer", "reader", "x"]}),
     {"required_claims": [ClaimRequirement("roles", ("reader", "writer"))]}),
    ("required-claim-any", lambda i: i.mint({"roles": ["writer"]}),
     {"required_claims": [ClaimRequirement("roles", ("reader", "writer"), match="any")]}),
    ("required-claim-separator", lambda i: i.mint({"scp": "read, write"}),
     {"required_claims": [ClaimRequirement("scp", ("write", "read"), separator=",")]}),
    ("required-claim-non-string", lambda i: i.mint({"admin": True, "level": 3}),
     {"required_claims": [ClaimRequirement("admin", ("true",)), ClaimRequirement("level", ("3",))]}),
]


@pytest.mark.parametrize(("make", "overrides"), [pytest.param(*c[1:], id=c[0]) for c in VALID_TOKENS])
def test_valid_token_returns_its_claims(issuer, keys, make, overrides):
    token = make(issuer)
    claims = validate_jwt(token, requirements(**overrides), keys, NOW)
    payload = token_from_header(token).split(".")[1]
    assert claims == json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_inline_symmetric_key_validates_hs256_only_when_allowed():
    secret = b"0123456789abcdef0123456789abcdef"
    inline = StaticKeys([SigningKey.from_symmetric_base64(base64.b64encode(secret).decode())])
    token = jwt.encode({"exp": NOW + 60}, secret, algorithm="HS256")
    hs256 = requirements(audiences=[], issuers=[], algorithms=(*ASYMMETRIC_ALGORITHMS, "HS256"))
    assert validate_jwt(token, hs256, inline, NOW) == {"exp": NOW + 60}

    forged = jwt.encode({"exp": NOW + 60}, b"another secret of 32 bytes......", algorithm="HS256")
    with pytest.raises(JwtValidationError, match="signature is invalid"):
        validate_jwt(forged, hs256, inline, NOW)
    with pytest.raises(JwtValidationError, match="'HS256' is not allowed"):
        validate_jwt(token, requirements(audiences=[], issuers=[]), inline, NOW)


def test_inline_rsa_key_accepts_plain_base64_modulus(issuer):
    jwk = issuer.jwks()["keys"][0]
    n_bytes = base64.urlsafe_b64decode(jwk["n"] + "=" * (-len(jwk["n"]) % 4))
    key = SigningKey.from_modulus_exponent(base64.b64encode(n_bytes).decode(), "AQAB")  # APIM's `n`/`e` form
    assert validate_jwt(issuer.mint(), requirements(), StaticKeys([key]), NOW)["sub"] == "test-user"


def test_keyed_lookup_ignores_keys_with_other_ids_but_tries_keys_without_id(issuer):
    jwk = issuer.jwks()["keys"][0]
    without_id = SigningKey.from_modulus_exponent(jwk["n"], jwk["e"])
    other_id = SigningKey.from_modulus_exponent(jwk["n"], jwk["e"], kid="other")
    assert validate_jwt(issuer.mint(), requirements(), StaticKeys([without_id]), NOW)
    with pytest.raises(JwtValidationError, match="no key with kid"):
        validate_jwt(issuer.mint(), requirements(), StaticKeys([other_id]), NOW)


def test_a_verified_signature_is_remembered_only_with_the_key_that_verified_it(issuer, monkeypatch):
    from jwt.algorithms import RSAAlgorithm

    verified: list[int] = []
    real_verify = RSAAlgorithm.verify
    monkeypatch.setattr(RSAAlgorithm, "verify", lambda self, *args: verified.append(1) or real_verify(self, *args))
    token = issuer.mint(subject="remembered-signature")
    keys = StaticKeys.from_jwks(issuer.jwks())
    assert validate_jwt(token, requirements(), keys, NOW)["sub"] == "remembered-signature"
    assert validate_jwt(token, requirements(), keys, NOW) and len(verified) == 1  # the same key: not verified again
    with pytest.raises(JwtValidationError, match="expired"):  # the claims are checked every time
        validate_jwt(token, requirements(), keys, NOW + 10 * HOUR)
    jwk = issuer.jwks()["keys"][0]
    same_numbers = StaticKeys([SigningKey.from_modulus_exponent(jwk["n"], jwk["e"], kid=jwk["kid"])])
    assert validate_jwt(token, requirements(), same_numbers, NOW) and len(verified) == 2  # another key object
    other = TestIssuer(ISSUER_URL, clock=lambda: NOW).jwks()["keys"][0]
    impostor = StaticKeys([SigningKey.from_modulus_exponent(other["n"], other["e"], kid=jwk["kid"])])
    with pytest.raises(JwtValidationError, match="signature is invalid"):  # a replaced key verifies again, and fails
        validate_jwt(token, requirements(), impostor, NOW)
    tampered = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
    for _ in range(2):
        with pytest.raises(JwtValidationError, match="signature is invalid|malformed"):
            validate_jwt(tampered, requirements(), keys, NOW)



# -- the decoded-token memo: a remembered token is re-checked against every requirement on every request ----------


@pytest.fixture
def verify_calls(monkeypatch) -> list[int]:
    from jwt.algorithms import RSAAlgorithm

    calls: list[int] = []
    real_verify = RSAAlgorithm.verify
    monkeypatch.setattr(RSAAlgorithm, "verify", lambda self, *args: calls.append(1) or real_verify(self, *args))
    return calls


def test_a_remembered_token_is_decoded_once(issuer, keys, monkeypatch):
    from toolkit.emulator import jwt_validation

    decoded: list[str] = []
    real_parse = jwt_validation._parse
    monkeypatch.setattr(jwt_validation, "_parse", lambda token: decoded.append(token) or real_parse(token))
    token = issuer.mint(subject="decoded-once")
    for _ in range(3):
        assert validate_jwt(token, requirements(), keys, NOW)["sub"] == "decoded-once"
    assert decoded == [token]


def test_a_remembered_token_is_refused_once_expired_or_not_yet_valid(issuer, keys):
    token = issuer.mint(subject="memo-lifetime", expires_in=60, not_before=NOW - 10)
    assert validate_jwt(token, requirements(), keys, NOW)
    with pytest.raises(JwtValidationError) as expired:
        validate_jwt(token, requirements(), keys, NOW + 60)
    assert expired.value.reason == "expired"
    assert validate_jwt(token, requirements(clock_skew_seconds=5), keys, NOW + 64)  # the skew is re-read too
    with pytest.raises(JwtValidationError) as early:
        validate_jwt(token, requirements(), keys, NOW - 11)
    assert early.value.reason == "not_yet_valid"


def test_a_remembered_token_is_refused_by_a_policy_wanting_another_audience_issuer_or_claim(issuer, keys):
    token = issuer.mint({"roles": ["reader"]}, audience="api://first")
    assert validate_jwt(token, requirements(audiences=["api://first"]), keys, NOW)
    refusals = [
        ({"audiences": ["api://second"]}, "audience"),
        ({"audiences": ["api://first"], "issuers": ["http://127.0.0.1:9/other"]}, "issuer"),
        ({"audiences": ["api://first"], "required_claims": [ClaimRequirement("roles", ("writer",))]},
         "claim_mismatch"),
        ({"audiences": ["api://first"], "required_claims": [ClaimRequirement("tid")]}, "claim_missing"),
        ({"audiences": ["api://first"], "algorithms": ("RS512",)}, "algorithm_not_allowed"),
    ]
    for overrides, reason in refusals:
        with pytest.raises(JwtValidationError) as refused:
            validate_jwt(token, requirements(**overrides), keys, NOW)
        assert refused.value.reason == reason, overrides


def test_a_remembered_signature_counts_only_for_the_key_object_that_verified_it(issuer, keys, verify_calls):
    token = issuer.mint(subject="memo-key")
    jwk = issuer.jwks()["keys"][0]
    other = TestIssuer(ISSUER_URL, clock=lambda: NOW).jwks()["keys"][0]
    impostor = StaticKeys([SigningKey.from_modulus_exponent(other["n"], other["e"], kid=jwk["kid"])])
    with pytest.raises(JwtValidationError, match="signature is invalid"):  # decoded and remembered, not verified
        validate_jwt(token, requirements(), impostor, NOW)
    assert validate_jwt(token, requirements(), keys, NOW)
    assert len(verify_calls) == 2
    with pytest.raises(JwtValidationError, match="signature is invalid"):  # verified by another key: not this one
        validate_jwt(token, requirements(), impostor, NOW)
    with pytest.raises(JwtValidationError, match="no key with kid"):  # the verifying key was removed
        validate_jwt(token, requirements(), StaticKeys([]), NOW)
    assert validate_jwt(token, requirements(), keys, NOW) and len(verify_calls) == 3


def test_a_token_with_a_bad_signature_stays_refused(issuer, keys):
    tampered = _tamper_payload(issuer.mint())
    for _ in range(3):
        with pytest.raises(JwtValidationError, match="signature is invalid"):
            validate_jwt(tampered, requirements(), keys, NOW)


def test_remembered_claims_are_not_shared_with_callers(issuer, keys):
    token = issuer.mint({"roles": ["reader"], "ext": {"team": "a"}})
    first = validate_jwt(token, requirements(), keys, NOW)
    first["roles"].append("admin")
    first["ext"]["team"] = "b"
    first["sub"] = "someone-else"
    again = validate_jwt(token, requirements(), keys, NOW)
    assert (again["roles"], again["ext"], again["sub"]) == (["reader"], {"team": "a"}, "test-user")
    with pytest.raises(JwtValidationError, match="does not contain"):
        validate_jwt(token, requirements(required_claims=[ClaimRequirement("roles", ("admin",))]), keys, NOW)


def test_the_memo_is_bounded_and_forgets_the_least_recently_used_token(issuer, keys, verify_calls, monkeypatch):
    from toolkit.emulator import jwt_validation

    monkeypatch.setattr(jwt_validation, "PARSED_TOKENS", 2)
    monkeypatch.setattr(jwt_validation, "_tokens", jwt_validation.OrderedDict())
    first, second, third = (issuer.mint(subject=f"lru-{n}") for n in range(3))
    for token in (first, second, first, third):  # third evicts second, the least recently used
        validate_jwt(token, requirements(), keys, NOW)
    assert list(jwt_validation._tokens) == [first, third] and len(verify_calls) == 3
    validate_jwt(second, requirements(), keys, NOW)
    assert len(verify_calls) == 4  # forgotten: verified again
    monkeypatch.setattr(jwt_validation, "MEMO_TOKEN_CHARS", len(first) - 1)
    long_token = issuer.mint(subject="lru-long")
    validate_jwt(long_token, requirements(), keys, NOW)
    validate_jwt(long_token, requirements(), keys, NOW)
    assert long_token not in jwt_validation._tokens and len(verify_calls) == 6


def test_no_keys_at_all_is_reported():
    token = TestIssuer(ISSUER_URL).mint(headers={"kid": None})
    with pytest.raises(JwtValidationError, match="no keys are configured") as caught:
        validate_jwt(token, requirements(), StaticKeys([]), NOW)
    assert caught.value.reason == "unknown_kid"


@pytest.mark.parametrize(
    ("value", "scheme", "expected"),
    [
        (None, None, None),
        ("  ", "Bearer", None),
        ("Bearer abc", "Bearer", "abc"),
        ("BEARER  abc ", "Bearer", "abc"),
        ("Bearer abc", None, "abc"),
        ("abc", None, "abc"),
        ("Token abc", "Token", "abc"),
    ],
)
def test_token_from_header(value, scheme, expected):
    assert token_from_header(value, scheme) == expected


def test_token_from_header_refuses_another_scheme():
    with pytest.raises(JwtValidationError) as caught:
        token_from_header("Basic dXNlcjpwYXNz", "Bearer")
    assert caught.value.reason == "wrong_scheme"
    assert "dXNlcjpwYXNz" not in caught.value.message


def test_requirements_refuse_what_apim_does_not_support():
    with pytest.raises(ValueError, match="unsupported JWT algorithm"):
        JwtRequirements(algorithms=("ES256",))
    with pytest.raises(ValueError, match="'all' or 'any'"):
        ClaimRequirement("roles", ("a",), match="some")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="clock_skew"):
        JwtRequirements(clock_skew_seconds=-1)


# -- openid-config key cache --------------------------------------------------------------------------


class Clock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


class FakeIdentityProvider:
    """Serves one issuer's discovery documents to `fetch_json`, counting fetches; can be made to fail."""

    def __init__(self, issuer: TestIssuer) -> None:
        self.issuer = issuer
        self.fetches: list[str] = []
        self.failure: Exception | None = None
        self.config_override: dict | None = None
        self.jwks_override: dict | None = None

    def __call__(self, url: str) -> dict:
        self.fetches.append(url)
        if self.failure is not None:
            raise self.failure
        if url == self.issuer.openid_configuration_url:
            return self.config_override or self.issuer.openid_configuration()
        if url == self.issuer.jwks_uri:
            return self.jwks_override or self.issuer.jwks()
        raise LookupError(f"404 {url}")

    @property
    def jwks_fetches(self) -> int:
        return self.fetches.count(self.issuer.jwks_uri)


@pytest.fixture
def world():
    clock = Clock(NOW)
    issuer = TestIssuer(ISSUER_URL, clock=clock)
    idp = FakeIdentityProvider(issuer)
    cache = OpenIdKeyCache(idp, clock)
    return clock, issuer, idp, cache.source(issuer.openid_configuration_url)


def _check(token: str, source, clock: Clock) -> dict:
    return validate_jwt(token, requirements(), source, clock())


def test_keys_are_fetched_through_the_discovery_document_and_cached_for_an_hour(world):
    clock, issuer, idp, source = world
    _check(issuer.mint(), source, clock)
    assert idp.fetches == [issuer.openid_configuration_url, issuer.jwks_uri]

    clock.now = NOW + HOUR - 1
    _check(issuer.mint(), source, clock)
    assert idp.jwks_fetches == 1

    clock.now = NOW + HOUR
    _check(issuer.mint(), source, clock)
    assert idp.jwks_fetches == 2


def test_unknown_kid_refetch_is_throttled_to_once_per_five_minutes(world):
    clock, issuer, idp, source = world
    _check(issuer.mint(), source, clock)  # fetch at t=0

    clock.now = NOW + 10
    new_kid = issuer.rotate()
    with pytest.raises(JwtValidationError, match="no key with kid") as caught:
        _check(issuer.mint(), source, clock)
    assert caught.value.reason == "unknown_kid"
    assert idp.jwks_fetches == 1  # fetched 10 s ago: no refetch yet

    clock.now = NOW + FIVE_MINUTES - 1
    with pytest.raises(JwtValidationError, match="no key with kid"):
        _check(issuer.mint(), source, clock)
    assert idp.jwks_fetches == 1

    clock.now = NOW + FIVE_MINUTES
    assert jwt.get_unverified_header(issuer.mint())["kid"] == new_kid
    _check(issuer.mint(), source, clock)  # refetched: the rotated key is now known
    assert idp.jwks_fetches == 2

    clock.now += 1
    for _ in range(3):
        with pytest.raises(JwtValidationError, match="no key with kid"):
            _check(issuer.mint(headers={"kid": "bogus"}), source, clock)
    assert idp.jwks_fetches == 2  # a flood of unknown kids does not hammer the identity provider

    clock.now += FIVE_MINUTES
    with pytest.raises(JwtValidationError, match="no key with kid"):
        _check(issuer.mint(headers={"kid": "bogus"}), source, clock)
    assert idp.jwks_fetches == 3


def test_known_kid_never_triggers_a_refetch_within_the_hour(world):
    clock, issuer, idp, source = world
    for step in range(0, int(HOUR), 600):
        clock.now = NOW + step
        _check(issuer.mint(), source, clock)
    assert idp.jwks_fetches == 1


def test_key_rotation_and_retirement_are_picked_up_on_the_hourly_refresh(world):
    clock, issuer, idp, source = world
    old_token = issuer.mint(expires_in=3 * 3600)
    _check(old_token, source, clock)

    issuer.rotate()
    issuer.retire(jwt.get_unverified_header(old_token)["kid"])
    clock.now = NOW + 60
    _check(old_token, source, clock)  # still cached: the retired key still verifies

    clock.now = NOW + HOUR
    _check(issuer.mint(), source, clock)
    with pytest.raises(JwtValidationError, match="no key with kid"):
        _check(old_token, source, clock)


def test_fetch_failure_is_a_validation_failure_and_is_retried_after_five_minutes(world):
    clock, issuer, idp, source = world
    idp.failure = ConnectionError("connection refused")
    with pytest.raises(JwtValidationError) as caught:
        _check(issuer.mint(), source, clock)
    assert caught.value.reason == "keys_unavailable"
    assert issuer.openid_configuration_url in caught.value.message
    assert "ConnectionError: connection refused" in caught.value.message
    assert len(idp.fetches) == 1

    idp.failure = None
    clock.now = NOW + FIVE_MINUTES - 1
    with pytest.raises(JwtValidationError, match="unavailable"):
        _check(issuer.mint(), source, clock)
    assert len(idp.fetches) == 1  # no retry storm

    clock.now = NOW + FIVE_MINUTES
    _check(issuer.mint(), source, clock)


def test_failed_hourly_refresh_keeps_the_last_good_keys(world):
    clock, issuer, idp, source = world
    _check(issuer.mint(), source, clock)
    idp.failure = TimeoutError("timed out")
    clock.now = NOW + HOUR
    _check(issuer.mint(), source, clock)
    assert idp.fetches[-1] == issuer.openid_configuration_url  # a refresh was attempted


@pytest.mark.parametrize(
    ("config", "jwks", "words"),
    [
        ({"issuer": ISSUER_URL}, None, "no 'jwks_uri'"),
        (None, {"not": "a jwks"}, "no 'keys' array"),
    ],
)
def test_broken_discovery_documents_are_reported(world, config, jwks, words):
    clock, issuer, idp, source = world
    idp.config_override, idp.jwks_override = config, jwks
    with pytest.raises(JwtValidationError, match=words) as caught:
        _check(issuer.mint(), source, clock)
    assert caught.value.reason == "keys_unavailable"


def test_jwks_entries_that_are_not_rsa_signing_keys_are_skipped(world):
    clock, issuer, idp, source = world
    good = issuer.jwks()["keys"]
    idp.jwks_override = {"keys": [{"kty": "EC", "kid": "ec"}, {**good[0], "use": "enc"},
                                  {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"}, "junk", *good]}
    _check(issuer.mint(), source, clock)
    idp.jwks_override = {"keys": [{**good[0], "use": "enc"}]}
    clock.now = NOW + HOUR
    with pytest.raises(JwtValidationError, match="no key with kid"):
        _check(issuer.mint(), source, clock)


def test_key_chain_uses_any_source_that_has_keys(world):
    clock, issuer, idp, source = world
    down_idp = FakeIdentityProvider(issuer)
    down_idp.failure = ConnectionError("refused")
    other_url = "http://127.0.0.1:9/other/.well-known/openid-configuration"
    failing = OpenIdKeyCache(down_idp, clock).source(other_url)
    assert _check(issuer.mint(), KeyChain(failing, source), clock)["iss"] == ISSUER_URL
    with pytest.raises(JwtValidationError, match="unavailable.*other") as caught:
        _check(issuer.mint(), KeyChain(failing, StaticKeys([])), clock)
    assert caught.value.reason == "keys_unavailable"


def test_cache_entries_are_per_url(world):
    clock, issuer, idp, _ = world
    second = FakeIdentityProvider(TestIssuer("http://127.0.0.1:9/second", clock=clock))
    cache = OpenIdKeyCache(lambda url: (idp if url.startswith(ISSUER_URL) else second)(url), clock)
    token = second.issuer.mint()
    with pytest.raises(JwtValidationError, match="no key with kid"):
        validate_jwt(token, JwtRequirements(), cache.source(issuer.openid_configuration_url), NOW)
    assert validate_jwt(token, JwtRequirements(), cache.source(second.issuer.openid_configuration_url), NOW)
    assert (idp.jwks_fetches, second.jwks_fetches) == (1, 1)


def test_end_to_end_through_the_issuer_routes(issuer):
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.testclient import TestClient

    from toolkit.emulator.jwt_issuer import issuer_routes

    served = TestIssuer("http://testserver/issuer", clock=lambda: NOW)
    app = Starlette(routes=[Mount("/issuer", routes=issuer_routes(served))])
    with TestClient(app) as client:
        cache = OpenIdKeyCache(lambda url: client.get(url).raise_for_status().json(), lambda: NOW)
        source = cache.source(served.openid_configuration_url)
        wanted = JwtRequirements(
            audiences=[DEFAULT_AUDIENCE], issuers=[served.issuer_url], require_scheme="Bearer"
        )
        assert validate_jwt("Bearer " + served.mint(), wanted, source, NOW)["iss"] == served.issuer_url
        with pytest.raises(JwtValidationError, match="signature is invalid"):
            validate_jwt("Bearer " + served.mint_with_foreign_key(), wanted, source, NOW)
