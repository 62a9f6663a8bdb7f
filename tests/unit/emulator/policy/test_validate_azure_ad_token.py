"""<validate-azure-ad-token>: validated against the emulator's test issuer standing in for Entra ID."""

from __future__ import annotations

import json

import pytest
from .policy_helpers import NOW, FakeServices, api, assert_sections, document, execute, rejected

from toolkit.emulator.jwt_issuer import TestIssuer
from toolkit.emulator.jwt_validation import OpenIdKeyCache
from toolkit.emulator.policy import AzureAdAuthority

TENANT = "contoso"
AUTHORITY = f"http://127.0.0.1:9/{TENANT}/v2.0"
CLIENT = "11111111-1111-1111-1111-111111111111"
BACKEND_APP = "22222222-2222-2222-2222-222222222222"
URL = {"backend_url": "http://backend.test"}


@pytest.fixture(scope="module")
def entra() -> TestIssuer:
    return TestIssuer(AUTHORITY, clock=lambda: NOW, audience=f"api://{BACKEND_APP}")


@pytest.fixture
def services(entra: TestIssuer) -> FakeServices:
    documents = {entra.openid_configuration_url: entra.openid_configuration(), entra.jwks_uri: entra.jwks()}
    fake = FakeServices()
    fake.jwt_keys = OpenIdKeyCache(documents.__getitem__, fake.clock)
    fake.authorities[TENANT] = AzureAdAuthority(entra.openid_configuration_url, (entra.issuer_url,))
    return fake


def _element(attributes: str = f'tenant-id="{TENANT}"', children: str | None = None) -> str:
    if children is None:
        children = (f"<client-application-ids><application-id>{CLIENT}</application-id></client-application-ids>"
                    f"<backend-application-ids><application-id>{BACKEND_APP}</application-id>"
                    "</backend-application-ids>")
    return f"<validate-azure-ad-token {attributes}>{children}</validate-azure-ad-token>"


def _run(services: FakeServices, token: str | None, element: str | None = None):
    headers = [("Authorization", f"Bearer {token}")] if token else []
    return execute([None, api(inbound=element or _element())], services, headers=headers, **URL)


def test_sections() -> None:
    assert_sections(_element(), ("inbound",))


@pytest.mark.parametrize(("xml", "message"), [
    (_element(""), "missing the required attribute 'tenant-id'"),
    (_element('tenant-id=" "'), "'tenant-id' is empty"),
    (_element(children="<client-application-ids/>"), "needs an <application-id>"),
    (_element(children="<decryption-keys/>"), "the local emulator does not support <decryption-keys> inside <validate-azure-ad-token> (APIM does)"),
    (_element(f'tenant-id="{TENANT}" header-name="a" token-value="b"'), "takes only one of"),
    (_element(children="<client-application-ids><application-id>@(&quot;c&quot;)</application-id>"
                       "</client-application-ids>"), "<application-id>: policy expressions are not allowed here"),
    (_element(f'tenant-id="{TENANT}" failed-validation-httpcode="99"'), "99 is outside the allowed range 100-599"),
    (_element(f'tenant-id="{TENANT}" authentication-endpoint="https://login.microsoftonline.us"'),
     "the local emulator does not support authentication-endpoint 'https://login.microsoftonline.us'"),
    (_element(f'tenant-id="{TENANT}" authentication-endpoint="@(&quot;login.microsoftonline.com&quot;)"'),
     "'authentication-endpoint': policy expressions are not allowed here"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


def test_a_token_of_an_allowed_client_passes(services: FakeServices, entra: TestIssuer) -> None:
    ctx = _run(services, entra.mint({"azp": CLIENT}))
    assert ctx.response_status == 200 and len(services.calls) == 1


def test_v1_tokens_name_the_client_in_appid(services: FakeServices, entra: TestIssuer) -> None:
    assert _run(services, entra.mint({"appid": CLIENT})).response_status == 200


@pytest.mark.parametrize(("claims", "options", "reason"), [
    ({"azp": "someone-else"}, {}, "TokenClaimValueNotAllowed"),
    ({"azp": CLIENT}, {"audience": "api://other"}, "TokenAudienceNotAllowed"),
    ({"azp": CLIENT, "iss": "http://127.0.0.1:9/fabrikam/v2.0"}, {}, "TokenIssuerNotAllowed"),
])
def test_refused_tokens(services: FakeServices, entra: TestIssuer, claims, options, reason) -> None:
    ctx = _run(services, entra.mint(claims, **options))
    assert (ctx.response_status, ctx.last_error_reason) == (401, reason)


def test_missing_token_and_custom_status(services: FakeServices) -> None:
    assert _run(services, None).last_error_reason == "TokenNotPresent"
    element = _element(f'tenant-id="{TENANT}" failed-validation-httpcode="403"')
    assert _run(services, None, element).response_status == 403


def test_without_an_entra_stand_in_the_request_fails(entra: TestIssuer) -> None:
    ctx = _run(FakeServices(), entra.mint({"azp": CLIENT}))
    assert (ctx.response_status, ctx.last_error_reason) == (500, "AzureAdUnavailable")


def test_without_client_application_ids_any_client_passes(services: FakeServices, entra: TestIssuer) -> None:
    # Real AI-gateway documents omit <client-application-ids>; APIM accepts them, so does the emulator.
    element = _element(children=f"<audiences><audience>api://{BACKEND_APP}</audience></audiences>")
    assert _run(services, entra.mint({"azp": "any-client"}), element).response_status == 200
    assert _run(services, entra.mint({"azp": "any-client"}, audience="api://other"), element).response_status == 401


@pytest.mark.parametrize("endpoint", ["login.microsoftonline.com", "https://login.microsoftonline.com/",
                                      "HTTPS://Login.MicrosoftOnline.com"])
def test_the_public_clouds_authentication_endpoint_is_accepted(services: FakeServices, entra: TestIssuer,
                                                               endpoint: str) -> None:
    """06/2025 docs: authentication-endpoint="Microsoft Entra ID environment endpoint, prefix https:// is optional"."""
    element = _element(f'tenant-id="{TENANT}" authentication-endpoint="{endpoint}"')
    assert _run(services, entra.mint({"azp": CLIENT}), element).response_status == 200


def test_expressions_where_the_docs_allow_them(services: FakeServices, entra: TestIssuer) -> None:
    """tenant-id, header-name, failed-validation-httpcode and -error-message take expressions, and the page's
    example uses <audience>@(context.Request.OriginalUrl.Host)</audience>."""
    header = "GetValueOrDefault(&quot;{}&quot;, &quot;{}&quot;)"
    element = _element(
        f'tenant-id="@(context.Request.Headers.{header.format("x-tenant", TENANT)})" '
        f'header-name="@(context.Request.Headers.{header.format("x-header", "Authorization")})" '
        f'failed-validation-httpcode="@(context.Request.Headers.{header.format("x-soft", "")} == &quot;1&quot; ? 403 : 401)" '
        'failed-validation-error-message="@(&quot;No entry to &quot; + context.Api.Id)"',
        f"<client-application-ids><application-id>{CLIENT}</application-id></client-application-ids>"
        "<audiences><audience>@(&quot;api://&quot; + context.Request.OriginalUrl.Host)</audience></audiences>")
    policy = api(inbound=element)

    def run_with(token: str, *headers: tuple[str, str]):
        return execute([None, policy], services, headers=list(headers), **URL)

    token = entra.mint({"azp": CLIENT}, audience="api://localhost")  # the request's host
    assert run_with(token, ("Authorization", f"Bearer {token}")).response_status == 200
    assert run_with(token, ("x-header", "x-tok"), ("x-tok", token)).response_status == 200  # no scheme outside Authorization
    other = entra.mint({"azp": CLIENT}, audience="api://other")
    refused = run_with(other, ("Authorization", f"Bearer {other}"))
    assert (refused.response_status, refused.last_error_reason) == (401, "TokenAudienceNotAllowed")
    assert json.loads(refused.response_body) == {"statusCode": 401, "message": "No entry to azure-openai"}
    assert run_with(other, ("Authorization", f"Bearer {other}"), ("x-soft", "1")).response_status == 403
    # The tenant is chosen per request: a tenant without a stand-in authority fails as without any.
    elsewhere = run_with(token, ("Authorization", f"Bearer {token}"), ("x-tenant", "fabrikam"))
    assert (elsewhere.response_status, elsewhere.last_error_reason) == (500, "AzureAdUnavailable")
    empty = run_with(token, ("Authorization", f"Bearer {token}"), ("x-tenant", " "))
    assert (empty.response_status, empty.last_error_reason) == (500, "ExpressionValueEvaluationFailure")
