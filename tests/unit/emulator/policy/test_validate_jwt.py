"""<validate-jwt>: refusals, token sources, keys (openid-config, inline), failures through on-error."""

from __future__ import annotations

import base64
import json

import jwt
import pytest
from .policy_helpers import NOW, FakeServices, api, assert_sections, document, execute, rejected

from toolkit.emulator.jwt_issuer import DEFAULT_AUDIENCE, TestIssuer
from toolkit.emulator.jwt_validation import OpenIdKeyCache

ISSUER_URL = "http://127.0.0.1:9/issuer"
URL = {"backend_url": "http://backend.test"}
REASON = '<set-header name="x-reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>'
SECRET = b"0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def issuer() -> TestIssuer:
    return TestIssuer(ISSUER_URL, clock=lambda: NOW)


@pytest.fixture
def services(issuer: TestIssuer) -> FakeServices:
    documents = {issuer.openid_configuration_url: issuer.openid_configuration(), issuer.jwks_uri: issuer.jwks()}
    fake = FakeServices()
    fake.jwt_keys = OpenIdKeyCache(documents.__getitem__, fake.clock)
    return fake


def _jwt(attributes: str = 'header-name="Authorization" require-scheme="Bearer"', children: str | None = None) -> str:
    if children is None:
        children = (f'<openid-config url="{ISSUER_URL}/.well-known/openid-configuration"/>'
                    f"<audiences><audience>{DEFAULT_AUDIENCE}</audience></audiences>"
                    f"<issuers><issuer>{ISSUER_URL}</issuer></issuers>")
    return f"<validate-jwt {attributes}>{children}</validate-jwt>"


def _run(services: FakeServices, element: str, headers=(), **options):
    return execute([None, api(inbound=element, on_error="<base/>" + REASON, **options.pop("compile", {}))],
                   services, headers=headers, **URL, **options)


def test_sections() -> None:
    assert_sections(_jwt(), ("inbound",))


@pytest.mark.parametrize(("xml", "message"), [
    (_jwt(""), "needs one of header-name, query-parameter-name, token-value"),
    (_jwt('header-name="a" query-parameter-name="b"'), "takes only one of"),
    (_jwt('header-name="a" failed-validation-httpcode="99"'), "99 is outside the allowed range 100-599"),
    (_jwt('header-name="a" clock-skew="-1"'), "'clock-skew': -1 is outside"),
    (_jwt('header-name="a" require-expiration-time="no"'), "is not true or false"),
    (_jwt('header-name="a"', "<decryption-keys/>"), "the local emulator does not support <decryption-keys> inside <validate-jwt> (APIM does)"),
    (_jwt('header-name="a"', "<openid-config/>"), "<openid-config> is missing the required attribute 'url'"),
    (_jwt('header-name="a"', '<issuer-signing-keys><key n="AQAB"/></issuer-signing-keys>'), "needs both 'n' and 'e'"),
    (_jwt('header-name="a"', "<issuer-signing-keys><key>not base64!</key></issuer-signing-keys>"), "not valid base64"),
    (_jwt('header-name="a"', '<issuer-signing-keys><key certificate-id="c"/></issuer-signing-keys>'),
     "attribute 'certificate-id' is not supported"),
    (_jwt('header-name="a"', "<audiences><audience>a</audience></audiences><audiences/>"), "<audiences> appears twice"),
    (_jwt('header-name="a"', "<audiences><audience>@(context.Nope)</audience></audiences>"), "<audience> text"),
    (_jwt('header-name="a" output-token-variable-name="@(&quot;v&quot;)"'), "expressions are not allowed"),
    (_jwt('header-name="a"', '<required-claims><claim name="r" match="some"/></required-claims>'),
     "'some' is not one of all, any"),
    (_jwt('header-name="a"', "<required-claims><claim/></required-claims>"), "missing the required attribute 'name'"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


def test_a_valid_token_passes_and_its_claims_can_be_kept(services: FakeServices, issuer: TestIssuer) -> None:
    element = _jwt('header-name="Authorization" require-scheme="Bearer" output-token-variable-name="jwt"')
    ctx = _run(services, element, [("Authorization", f"Bearer {issuer.mint()}")])
    assert ctx.response_status == 200 and len(services.calls) == 1
    assert ctx.variables["jwt"]["sub"] == "test-user"


@pytest.mark.parametrize(("token", "reason", "message"), [
    (None, "TokenNotPresent", "JWT not present."),
    ("audience", "TokenAudienceNotAllowed", "JWT audience 'api://someone-else' is not allowed. Access denied."),
    ("expired", "TokenExpired", "JWT has expired (3600 s ago; clock skew allowed 0 s). Access denied."),
    ("foreign", "TokenSignatureInvalid", None),
    ("garbage", "JwtInvalid", None),
])
def test_failures_answer_401_with_apims_reasons(services: FakeServices, issuer: TestIssuer, token, reason,
                                                message) -> None:
    """Default bodies follow api-management-error-handling-policies.md: "<message from jwt library>. Access denied."."""
    tokens = {
        None: None,
        "audience": issuer.mint(audience="api://someone-else"),
        "expired": issuer.mint(now=NOW - 7200),
        "foreign": issuer.mint_with_foreign_key(),
        "garbage": "a.b",
    }
    headers = [("Authorization", f"Bearer {tokens[token]}")] if tokens[token] else []
    ctx = _run(services, _jwt(), headers)
    assert ctx.response_status == 401 and services.calls == []
    assert ctx.response_headers.get("x-reason") == reason
    body = json.loads(ctx.response_body)
    assert body["statusCode"] == 401
    if message is not None:
        assert body["message"] == message
    elif reason == "JwtInvalid":
        assert not body["message"].endswith("Access denied.")  # other failures: the library's message alone
    else:
        assert body["message"].endswith(". Access denied.") and ".. " not in body["message"]


def test_claim_failures_use_the_documented_messages(services: FakeServices, issuer: TestIssuer) -> None:
    claims = ('<required-claims><claim name="roles" match="any"><value>admin</value></claim>'
              '<claim name="tid"/></required-claims>')
    element = _jwt(children=f'<openid-config url="{ISSUER_URL}/.well-known/openid-configuration"/>{claims}')
    wrong = _run(services, element, [("Authorization", f"Bearer {issuer.mint({'roles': ['guest'], 'tid': 't'})}")])
    assert json.loads(wrong.response_body)["message"] == "Claim roles value of guest is not allowed. Access denied."
    missing = _run(services, element, [("Authorization", f"Bearer {issuer.mint({'roles': ['admin']})}")])
    assert json.loads(missing.response_body)["message"] == (
        "JWT token is missing the following claims: tid. Access denied.")


def test_expressions_where_the_docs_allow_them(services: FakeServices, issuer: TestIssuer) -> None:
    """validate-jwt-policy.md: failed-validation-httpcode and -error-message take expressions; its
    examples use <audience>@(context.Request.OriginalUrl.Host)</audience>."""
    element = _jwt('header-name="t" failed-validation-httpcode="@(context.Request.Headers.GetValueOrDefault(&quot;x-soft&quot;, &quot;&quot;) == &quot;1&quot; ? 403 : 401)" '
                   'failed-validation-error-message="@(&quot;No entry to &quot; + context.Api.Id)"',
                   f'<openid-config url="{ISSUER_URL}/.well-known/openid-configuration"/>'
                   '<audiences><audience>@("api://" + context.Request.Headers.GetValueOrDefault("x-aud", "none"))</audience></audiences>')
    token = issuer.mint(audience="api://gateway")
    assert _run(services, element, [("t", token), ("x-aud", "gateway")]).response_status == 200
    refused = _run(services, element, [("t", token), ("x-aud", "other")])
    assert refused.response_status == 401
    assert json.loads(refused.response_body) == {"statusCode": 401, "message": "No entry to azure-openai"}
    soft = _run(services, element, [("t", token), ("x-aud", "other"), ("x-soft", "1")])
    assert soft.response_status == 403


def test_the_scheme_is_required_in_the_authorization_header(services: FakeServices, issuer: TestIssuer) -> None:
    assert _run(services, _jwt(), [("Authorization", issuer.mint())]).response_status == 401
    relaxed = _jwt('header-name="Authorization"')
    assert _run(services, relaxed, [("Authorization", issuer.mint())]).response_status == 200


def test_custom_status_message_and_clock_skew(services: FakeServices, issuer: TestIssuer) -> None:
    element = _jwt('header-name="x-token" failed-validation-httpcode="403" '
                   'failed-validation-error-message="Go away." clock-skew="120"')
    stale = issuer.mint(now=NOW - 3660)  # expired 60 s ago: within the skew
    assert _run(services, element, [("x-token", stale)]).response_status == 200
    ctx = _run(services, element, [("x-token", issuer.mint(now=NOW - 3800))])
    assert ctx.response_status == 403
    assert json.loads(ctx.response_body) == {"statusCode": 403, "message": "Go away."}


def test_query_parameter_and_token_value_sources(services: FakeServices, issuer: TestIssuer) -> None:
    token = issuer.mint()
    by_query = _run(services, _jwt('query-parameter-name="access_token"'), query=f"api-version=1&access_token={token}")
    assert by_query.response_status == 200
    expression = 'token-value="@(context.Request.Headers.GetValueOrDefault(&quot;x-jwt&quot;, &quot;&quot;))"'
    assert _run(services, _jwt(expression), [("x-jwt", token)]).response_status == 200
    assert _run(services, _jwt(expression)).response_status == 401


def test_inline_keys_rsa_and_symmetric(services: FakeServices, issuer: TestIssuer) -> None:
    jwk = issuer.jwks()["keys"][0]
    rsa = _jwt('header-name="t"', f'<issuer-signing-keys><key n="{jwk["n"]}" e="{jwk["e"]}"/></issuer-signing-keys>')
    assert _run(services, rsa, [("t", issuer.mint())]).response_status == 200
    hs256 = _jwt('header-name="t"', f"<issuer-signing-keys><key>{base64.b64encode(SECRET).decode()}</key>"
                                    "</issuer-signing-keys>")
    token = jwt.encode({"sub": "x", "exp": int(NOW) + 60}, SECRET, algorithm="HS256")
    assert _run(services, hs256, [("t", token)]).response_status == 200
    assert _run(services, hs256, [("t", issuer.mint())]).response_status == 401


def test_required_claims_and_named_values(services: FakeServices, issuer: TestIssuer) -> None:
    element = _jwt('header-name="t"', '<openid-config url="{{oidc}}"/><audiences><audience>{{aud}}</audience>'
                                      '</audiences><required-claims><claim name="roles" match="any">'
                                      "<value>reader</value><value>admin</value></claim></required-claims>")
    names = {"compile": {"named_values": {"oidc": issuer.openid_configuration_url, "aud": DEFAULT_AUDIENCE}}}
    assert _run(services, element, [("t", issuer.mint({"roles": ["reader"]}))], **names).response_status == 200
    refused = _run(services, element, [("t", issuer.mint({"roles": ["guest"]}))], **names)
    assert refused.response_headers.get("x-reason") == "TokenClaimValueNotAllowed"


def test_openid_config_without_a_key_cache_refuses_tokens(issuer: TestIssuer) -> None:
    ctx = _run(FakeServices(), _jwt(), [("Authorization", f"Bearer {issuer.mint()}")])
    assert ctx.response_status == 401 and "keys unavailable" in ctx.last_error_message


def test_keys_are_fetched_off_the_event_loop_and_cached_keys_validate_without_a_worker_hop(
        issuer: TestIssuer) -> None:
    documents = {issuer.openid_configuration_url: issuer.openid_configuration(), issuer.jwks_uri: issuer.jwks()}
    in_worker = False
    fetched_in_worker: list[bool] = []

    def fetch(url: str) -> dict:
        fetched_in_worker.append(in_worker)
        return documents[url]

    class CountingServices(FakeServices):
        hops = 0

        async def run_blocking(self, fn, *args):  # what DefaultGatewayServices runs in a worker thread
            nonlocal in_worker
            self.hops += 1
            in_worker = True
            try:
                return fn(*args)
            finally:
                in_worker = False

    services = CountingServices()
    services.jwt_keys = OpenIdKeyCache(fetch, services.clock)
    headers = [("Authorization", f"Bearer {issuer.mint()}")]
    assert _run(services, _jwt(), headers).response_status == 200
    assert (services.hops, fetched_in_worker) == (1, [True, True])  # openid-config, then jwks: in the worker
    for _ in range(3):
        assert _run(services, _jwt(), headers).response_status == 200
    assert (services.hops, len(fetched_in_worker)) == (1, 2)  # cached: validated in place
    bad = [("Authorization", f"Bearer {issuer.mint()[:-4]}AAAA")]
    assert _run(services, _jwt(), bad).response_status == 401 and services.hops == 1


def test_a_source_that_may_not_fetch_says_so_instead_of_fetching(issuer: TestIssuer) -> None:
    from toolkit.emulator.jwt_validation import KeysNotCached

    documents = {issuer.openid_configuration_url: issuer.openid_configuration(), issuer.jwks_uri: issuer.jwks()}
    fetched: list[str] = []
    cache = OpenIdKeyCache(lambda url: fetched.append(url) or documents[url], lambda: NOW)
    url = f"{ISSUER_URL}/.well-known/openid-configuration"
    with pytest.raises(KeysNotCached):
        cache.source(url, fetch=False).keys_for(None)
    assert fetched == []
    assert cache.source(url).keys_for(None)  # fetches
    assert cache.source(url, fetch=False).keys_for(None) and len(fetched) == 2


def test_one_compiled_policy_reads_the_key_cache_of_the_services_it_runs_with(issuer: TestIssuer) -> None:
    """The key chain a compiled policy reuses between requests is rebuilt when the gateway's key cache changes."""
    other = TestIssuer(ISSUER_URL, clock=lambda: NOW)  # the same URLs, other keys

    def services_of(who: TestIssuer) -> FakeServices:
        documents = {who.openid_configuration_url: who.openid_configuration(), who.jwks_uri: who.jwks()}
        fake = FakeServices()
        fake.jwt_keys = OpenIdKeyCache(documents.__getitem__, fake.clock)
        return fake

    chain = [None, api(inbound=_jwt(), on_error="<base/>" + REASON)]
    first, second = services_of(issuer), services_of(other)
    mine, theirs = issuer.mint(), other.mint()
    for services, token, status in [(first, mine, 200), (first, theirs, 401), (second, theirs, 200),
                                    (second, mine, 401), (first, mine, 200)]:
        ctx = execute(chain, services, headers=[("Authorization", f"Bearer {token}")], **URL)
        assert ctx.response_status == status
