"""<validate-azure-ad-token>: validated against the emulator's test issuer standing in for Entra ID."""

from __future__ import annotations

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
