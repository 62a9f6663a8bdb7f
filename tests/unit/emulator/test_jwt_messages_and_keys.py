"""validate-jwt: the exact messages a refused client reads, and the key material the validator accepts.

The messages reach the client in the 401 body (`jwt_support.default_failure_message` adds "Access denied." to
some), so their wording is pinned here, not only their reason code. The key tests cover what an identity
provider's JWK Set or an inline `<key>` may hold: entries to skip, entries to refuse, and what must still work.
"""

from __future__ import annotations

import base64
import json

import pytest

from toolkit.emulator.jwt_issuer import DEFAULT_AUDIENCE, TestIssuer, b64url
from toolkit.emulator.jwt_validation import (
    ASYMMETRIC_ALGORITHMS,
    ClaimRequirement,
    JwtRequirements,
    JwtValidationError,
    KeyChain,
    KeysNotCached,
    OpenIdKeyCache,
    SigningKey,
    StaticKeys,
    keys_from_jwks,
    validate_jwt,
)

NOW = 1_700_000_000.0
ISSUER_URL = "http://127.0.0.1:9/issuer"
SECRET = b"0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def issuer() -> TestIssuer:
    return TestIssuer(ISSUER_URL, clock=lambda: NOW)


@pytest.fixture(scope="module")
def keys(issuer: TestIssuer) -> StaticKeys:
    return StaticKeys.from_jwks(issuer.jwks())


def requirements(**overrides) -> JwtRequirements:
    return JwtRequirements(**{"audiences": [DEFAULT_AUDIENCE], "issuers": [ISSUER_URL], **overrides})


def _header_only(header: dict) -> str:
    return b64url(json.dumps(header).encode()) + ".e30."


def _refusal(token, overrides=None, key_source=None) -> JwtValidationError:
    with pytest.raises(JwtValidationError) as caught:
        validate_jwt(token, requirements(**(overrides or {})), key_source, NOW)
    return caught.value


LONG_ISSUER = "https://" + "i" * 56 + "x"  # 65 characters: one past what a message shows
# (id, token maker, requirement overrides, key source: "issuer" | "symmetric" | "none", the exact message)
MESSAGES = [
    ("missing", lambda i: None, {}, "issuer", "JWT not present."),
    ("encrypted", lambda i: "a.b.c.d.e", {}, "issuer",
     "JWT is encrypted (JWE); the emulator does not support decryption keys."),
    ("two-segments", lambda i: "abc.def", {}, "issuer", "JWT is malformed: expected three dot-separated segments."),
    ("no-alg", lambda i: _header_only({"typ": "JWT"}), {}, "issuer", "JWT is malformed: the header has no 'alg'."),
    ("alg-not-a-string", lambda i: _header_only({"alg": 5}), {}, "issuer",
     "JWT is malformed: the header has no 'alg'."),
    ("crit", lambda i: i.mint(headers={"crit": ["exp"]}), {}, "issuer",
     "JWT header has critical extensions ('crit') that are not supported."),
    ("alg-none", lambda i: i.mint_unsigned(), {}, "issuer",
     "JWT is not signed (alg 'none'); signed tokens are required."),
    ("alg-none-signed", lambda i: i.mint_unsigned() + "c2ln", {"require_signed_tokens": False}, "issuer",
     "JWT is malformed: an unsigned token (alg 'none') carries a signature."),
    ("alg-not-allowed", lambda i: i.mint(headers={"alg": "RS384"}), {}, "issuer",
     "JWT algorithm 'RS384' is not allowed; allowed: RS256, RS512, PS256."),
    ("kid-not-a-string", lambda i: i.mint(headers={"kid": 7}), {}, "issuer",
     "JWT is malformed: the header 'kid' is not a string."),
    ("no-keys", lambda i: i.mint(headers={"kid": None}), {}, "none",
     "JWT signing key not found: no keys are configured."),
    ("rsa-token-symmetric-keys", lambda i: i.mint(headers={"kid": None}), {}, "symmetric",
     "JWT signing key not found: no RSA key for algorithm RS256."),
    ("hs256-token-rsa-keys", lambda i: i.mint_hs256_with_public_key(),
     {"algorithms": (*ASYMMETRIC_ALGORITHMS, "HS256")}, "issuer",
     "JWT signing key not found: no symmetric key for algorithm HS256."),
    ("bad-signature", lambda i: i.mint_with_foreign_key(known_kid=True), {}, "issuer", "JWT signature is invalid."),
    ("no-exp", lambda i: i.mint(expires_in=None), {}, "issuer",
     "JWT has no expiration time ('exp' claim) and one is required."),
    ("expired", lambda i: i.mint(now=NOW - 7200, expires_in=3600), {"clock_skew_seconds": 30}, "issuer",
     "JWT has expired (3600 s ago; clock skew allowed 30 s)."),
    ("not-yet-valid", lambda i: i.mint(not_before=NOW + 600), {"clock_skew_seconds": 60}, "issuer",
     "JWT is not yet valid (valid in 600 s; clock skew allowed 60 s)."),
    ("no-audience", lambda i: i.mint(audience=None), {}, "issuer", "JWT has no audience ('aud' claim)."),
    ("audience-a-number", lambda i: i.mint({"aud": 123}), {}, "issuer", "JWT has no audience ('aud' claim)."),
    # an object holding the allowed audience as a key is no audience at all (iterating it would find the key)
    ("audience-an-object", lambda i: i.mint({"aud": {DEFAULT_AUDIENCE: True}}), {}, "issuer",
     "JWT has no audience ('aud' claim)."),
    ("audience-list-not-allowed", lambda i: i.mint(audience=["x", "y"]), {}, "issuer",
     "JWT audience '[\"x\", \"y\"]' is not allowed."),
    ("no-issuer", lambda i: i.mint({"iss": None}), {}, "issuer", "JWT has no issuer ('iss' claim)."),
    ("issuer-shown-whole", lambda i: i.mint({"iss": LONG_ISSUER[:-1]}), {}, "issuer",
     f"JWT issuer '{LONG_ISSUER[:-1]}' is not allowed."),
    ("issuer-cut", lambda i: i.mint({"iss": LONG_ISSUER}), {}, "issuer",
     f"JWT issuer '{LONG_ISSUER[:-1]}…' is not allowed."),
]


@pytest.mark.parametrize(("make", "overrides", "source", "message"),
                         [pytest.param(*case[1:], id=case[0]) for case in MESSAGES])
def test_a_refused_token_gets_exactly_this_message(issuer, keys, make, overrides, source, message):
    key_source = {"issuer": keys, "none": StaticKeys([]),
                  "symmetric": StaticKeys([SigningKey.from_symmetric_base64(base64.b64encode(SECRET).decode())])}
    assert _refusal(make(issuer), overrides, key_source[source]).message == message


def test_without_a_required_scheme_only_bearer_is_taken_off_the_header():
    from toolkit.emulator.jwt_validation import token_from_header

    assert token_from_header("Bearer a.b.c") == "a.b.c"
    assert token_from_header("Token a.b.c") == "Token a.b.c"  # then refused as malformed, never cut to "a.b.c"
    assert token_from_header("Bearer") == "Bearer"


def test_a_claim_mismatch_names_the_values_the_token_has(issuer, keys):
    refused = _refusal(issuer.mint({"roles": ["writer", "guest"]}),
                       {"required_claims": [ClaimRequirement("roles", ("reader",))]}, keys)
    assert (refused.claim, refused.value) == ("roles", "guest, writer")


# -- key material ----------------------------------------------------------------------------------------------


def _public_numbers(n: str, e: str) -> tuple[int, int]:
    numbers = SigningKey.from_modulus_exponent(n, e).key.public_numbers()
    return numbers.n, numbers.e


@pytest.fixture(scope="module")
def modulus(issuer: TestIssuer) -> tuple[str, int]:
    """The issuer's modulus as base64url text (unpadded, as in a JWK) and as a number."""
    n = issuer.jwks()["keys"][0]["n"]
    return n, int.from_bytes(base64.urlsafe_b64decode(n + "=" * (-len(n) % 4)), "big")


@pytest.mark.parametrize(("e", "expected"), [
    ("AQAB", 65537),
    ("AQAB=", 65537),  # padding is optional, and more of it than needed is ignored
    ("AQE", 257),  # three characters: one padding character is implied
    ("AQE=", 257),
    ("AAAX", 23),  # a value ending in "X" keeps it
])
def test_an_rsa_exponent_is_read_with_or_without_padding(modulus, e, expected):
    n, number = modulus
    assert _public_numbers(n, e) == (number, expected)


@pytest.mark.parametrize(("e", "message"), [
    ("AQ*AB", "RSA key component is not base64"),  # a stray character is refused, never skipped
    ("AQ AB", "RSA key component is not base64"),
    ("=AQAB", "RSA key component is not base64"),  # padding only ends a value
    ("", "RSA key component is empty"),
    ("==", "RSA key component is empty"),
])
def test_a_broken_rsa_component_is_refused(modulus, e, message):
    with pytest.raises(ValueError) as caught:
        SigningKey.from_modulus_exponent(modulus[0], e)
    assert str(caught.value) == message


def test_an_inline_symmetric_key_keeps_its_id_and_refuses_bad_base64():
    key = SigningKey.from_symmetric_base64(base64.b64encode(SECRET).decode(), kid="k1")
    assert (key.key, key.kid, key.symmetric) == (SECRET, "k1", True)
    for value, message in (("c2VjcmV0$", "symmetric signing key is not valid base64"),
                           ("c2Vj cmV0", "symmetric signing key is not valid base64"),
                           ("  ", "symmetric signing key is empty")):
        with pytest.raises(ValueError) as caught:
            SigningKey.from_symmetric_base64(value)
        assert str(caught.value) == message


def test_a_jwk_set_keeps_every_usable_rsa_signing_key_past_broken_entries(issuer):
    good = issuer.jwks()["keys"][0]
    no_use = {k: v for k, v in good.items() if k != "use"} | {"kid": "no-use"}  # "use" is optional (RFC 7517)
    entries = [
        "not an object",
        {**good, "kid": "bad-n", "n": 123},
        {**good, "kid": "bad-e", "e": ["AQAB"]},
        {**good, "kid": 42},
        {**good, "kid": "stray-char", "n": good["n"][:10] + "*" + good["n"][11:]},
        {**good, "kid": "encryption", "use": "enc"},
        {**good, "kid": "elliptic", "kty": "EC"},
        no_use,
        good,
    ]
    found = keys_from_jwks({"keys": entries})
    assert [k.kid for k in found] == ["no-use", good["kid"]]
    token = issuer.mint(headers={"kid": "no-use"})
    assert validate_jwt(token, requirements(), StaticKeys(found), NOW)["sub"] == "test-user"


@pytest.mark.parametrize("document", [[], {"keys": {}}, {"keys": None}, {}, "keys"])
def test_a_document_that_is_no_jwk_set_is_refused(document):
    with pytest.raises(ValueError) as caught:
        keys_from_jwks(document)
    assert str(caught.value) == "JWKS document has no 'keys' array"


def test_a_key_chain_asks_every_source_for_the_token_kid():
    a, b, anonymous = (SigningKey(SECRET + bytes([n]), kid) for n, kid in enumerate(("a", "b", None)))
    chain = KeyChain(StaticKeys([a, b]), StaticKeys([anonymous]))
    assert chain.keys_for("a") == [a, anonymous]
    assert chain.keys_for(None) == [a, b, anonymous]


def test_requirements_that_cannot_be_met_are_refused_with_their_field():
    with pytest.raises(ValueError, match=r"^clock_skew_seconds must be >= 0$"):
        JwtRequirements(clock_skew_seconds=-1)
    requirement = ClaimRequirement("roles", ["reader"])  # a list from a caller: kept as a tuple, hashable
    assert requirement.values == ("reader",) and hash(requirement) == hash(ClaimRequirement("roles", ("reader",)))


# -- openid-config documents ------------------------------------------------------------------------------------


class _Documents:
    """A fake fetcher: the JSON document (or exception) for each URL."""

    def __init__(self, documents: dict) -> None:
        self.documents = documents
        self.fetched: list[str] = []

    def __call__(self, url: str):
        self.fetched.append(url)
        found = self.documents[url]
        if isinstance(found, Exception):
            raise found
        return found


CONFIG_URL = "http://127.0.0.1:9/.well-known/openid-configuration"


@pytest.mark.parametrize(("config", "detail"), [
    ([{"jwks_uri": "http://127.0.0.1:9/keys"}], "ValueError: the document has no 'jwks_uri'"),
    ({"jwks_uri": 5}, "ValueError: the document has no 'jwks_uri'"),
    ({"jwks_uri": ""}, "ValueError: the document has no 'jwks_uri'"),
    (OSError(""), "OSError"),
    (OSError("refused\nsecond line"), "OSError: refused"),
    (OSError("x" * 300), "OSError: " + "x" * 200),
])
def test_an_unusable_openid_config_names_the_url_and_the_first_line_of_the_failure(issuer, config, detail):
    cache = OpenIdKeyCache(_Documents({CONFIG_URL: config}), lambda: NOW)
    refused = _refusal(issuer.mint(), key_source=cache.source(CONFIG_URL))
    assert refused.reason == "keys_unavailable"
    assert refused.message == (f"JWT signing keys unavailable: could not load keys from openid-config "
                               f"'{CONFIG_URL}' ({detail}).")


def test_the_cache_fetches_unless_told_not_to(issuer):
    documents = _Documents({CONFIG_URL: {"jwks_uri": "http://127.0.0.1:9/keys"},
                            "http://127.0.0.1:9/keys": issuer.jwks()})
    cache = OpenIdKeyCache(documents, lambda: NOW)
    with pytest.raises(KeysNotCached):
        cache.source(CONFIG_URL, fetch=False).keys_for(None)
    assert documents.fetched == []
    assert [k.kid for k in cache.keys_for(CONFIG_URL, None)] == issuer.kids  # fetches by default
    assert [k.kid for k in cache.source(CONFIG_URL, fetch=False).keys_for(None)] == issuer.kids  # now cached
    assert len(documents.fetched) == 2


# -- the memo of parsed tokens ----------------------------------------------------------------------------------


def test_a_token_of_exactly_the_memo_limit_is_remembered(issuer, keys, monkeypatch):
    from toolkit.emulator import jwt_validation

    token = issuer.mint(subject="memo-limit")
    monkeypatch.setattr(jwt_validation, "MEMO_TOKEN_CHARS", len(token))
    monkeypatch.setattr(jwt_validation, "_tokens", jwt_validation.OrderedDict())
    validate_jwt(token, requirements(), keys, NOW)
    assert token in jwt_validation._tokens


def test_claims_nested_in_arrays_are_not_shared_with_the_memo(issuer, keys):
    token = issuer.mint({"groups": [{"id": "g1", "roles": ["reader"]}]})
    first = validate_jwt(token, requirements(), keys, NOW)
    first["groups"][0]["roles"].append("admin")
    first["groups"][0]["id"] = "g2"
    assert validate_jwt(token, requirements(), keys, NOW)["groups"] == [{"id": "g1", "roles": ["reader"]}]
