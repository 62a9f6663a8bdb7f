"""Credentials: the --auth choice, what to set when settings are missing, GitHub OIDC, a bounded preflight."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from toolkit.errors import AuthError
from toolkit.publish.credentials import CredentialChoice, azure_credential, github_oidc_assertion, preflight

IDS = {"AZURE_TENANT_ID": "tenant", "AZURE_CLIENT_ID": "client"}
GITHUB = {"ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.actions.invalid/idtoken?api-version=2.0",
          "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "gh-request-token"}
CHOICE = CredentialChoice("client-secret", "ClientSecretCredential", "set AZURE_CLIENT_SECRET")


@pytest.mark.parametrize(("auth", "environ", "name"), [
    ("default", {}, "DefaultAzureCredential"),
    ("cli", {}, "AzureCliCredential"),
    ("managed-identity", {}, "ManagedIdentityCredential"),
    ("client-secret", {**IDS, "AZURE_CLIENT_SECRET": "s"}, "ClientSecretCredential"),
    ("workload-identity", {**IDS, "AZURE_FEDERATED_TOKEN_FILE": "/var/run/token"}, "WorkloadIdentityCredential"),
    ("workload-identity", {**IDS, **GITHUB}, "ClientAssertionCredential"),
])
def test_each_auth_builds_its_credential(auth: str, environ: dict[str, str], name: str) -> None:
    credential, choice = azure_credential(auth, environ=environ)
    assert type(credential).__name__ == name and choice.name.startswith(name) and choice.auth == auth


@pytest.mark.parametrize(("auth", "environ", "missing"), [
    ("client-secret", IDS, "AZURE_CLIENT_SECRET"),
    ("client-secret", {"AZURE_CLIENT_SECRET": "s"}, "AZURE_TENANT_ID, AZURE_CLIENT_ID"),
    ("workload-identity", IDS, "AZURE_FEDERATED_TOKEN_FILE"),
    ("workload-identity", GITHUB, "AZURE_TENANT_ID, AZURE_CLIENT_ID"),
])
def test_missing_settings_are_named(auth: str, environ: dict[str, str], missing: str) -> None:
    with pytest.raises(AuthError) as caught:
        azure_credential(auth, environ=environ)
    assert f"needs {missing}, which are not set" in caught.value.message
    assert caught.value.exit_code == 4 and caught.value.hint


def test_tenant_and_client_may_come_from_the_config() -> None:
    credential, _ = azure_credential("client-secret", tenant_id="t", client_id="c", environ={"AZURE_CLIENT_SECRET": "s"})
    assert type(credential).__name__ == "ClientSecretCredential"


def test_github_oidc_assertion_asks_for_the_azure_audience() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"value": "oidc-jwt"})

    fetch = github_oidc_assertion(GITHUB, transport=httpx.MockTransport(handler))
    assert fetch() == "oidc-jwt"
    (request,) = seen
    assert request.url.params["audience"] == "api://AzureADTokenExchange"
    assert request.url.params["api-version"] == "2.0"
    assert request.headers["Authorization"] == "Bearer gh-request-token"


def test_github_oidc_refusal_hints_at_the_permission() -> None:
    fetch = github_oidc_assertion(GITHUB, transport=httpx.MockTransport(lambda request: httpx.Response(403)))
    with pytest.raises(AuthError) as caught:
        fetch()
    assert "HTTP 403" in caught.value.message and "id-token: write" in (caught.value.hint or "")


def test_preflight_is_bounded_in_time() -> None:
    release = threading.Event()

    class Stuck:
        def get_token(self, *scopes: str, **kwargs: Any) -> Any:
            release.wait(30)

    try:
        with pytest.raises(AuthError) as caught:
            preflight(Stuck(), CHOICE, timeout=0.05)
    finally:
        release.set()
    assert "ClientSecretCredential (--auth client-secret) did not return a token within 0.05 s" in caught.value.message
    assert caught.value.hint == "set AZURE_CLIENT_SECRET"


def test_preflight_failure_names_the_credential_and_redacts_secrets() -> None:
    from azure.core.exceptions import ClientAuthenticationError

    class Refused:
        def get_token(self, *scopes: str, **kwargs: Any) -> Any:
            raise ClientAuthenticationError("AADSTS7000215: Invalid client secret provided: 'the-client-secret'")

    with pytest.raises(AuthError) as caught:
        preflight(Refused(), CHOICE, secrets=("the-client-secret",))
    assert "ClientSecretCredential (--auth client-secret) could not get a token" in caught.value.message
    assert "AADSTS7000215" in caught.value.message and "the-client-secret" not in caught.value.message


def test_default_credential_failure_is_summarised_per_attempt() -> None:
    from azure.core.exceptions import ClientAuthenticationError

    message = (
        "DefaultAzureCredential failed to retrieve a token from the included credentials.\nAttempted credentials:\n"
        "\tEnvironmentCredential: EnvironmentCredential authentication unavailable. Environment variables are not "
        "fully configured.\nVisit https://aka.ms/azsdk/python/identity/environmentcredential/troubleshoot to "
        "troubleshoot this issue.\n\tAzureCliCredential: Azure CLI not found on path\n"
        "To mitigate this issue, please refer to the troubleshooting guidelines here at https://aka.ms/x."
    )

    class Offline:
        def get_token(self, *scopes: str, **kwargs: Any) -> Any:
            raise ClientAuthenticationError(message)

    _, choice = azure_credential("default", environ={})
    with pytest.raises(AuthError) as caught:
        preflight(Offline(), choice)
    assert caught.value.message == (
        "DefaultAzureCredential (--auth default) could not get a token for Azure Resource Manager: tried "
        "EnvironmentCredential: EnvironmentCredential authentication unavailable. Environment variables are not "
        "fully configured.; AzureCliCredential: Azure CLI not found on path")
    assert "az login" in (caught.value.hint or "")


def test_unreachable_token_endpoint_fails_with_the_credential_named() -> None:
    # the authority is a closed loopback port: the token request is refused at once, nothing leaves the host
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    options = {"authority": f"https://127.0.0.1:{port}", "disable_instance_discovery": True}
    credential, choice = azure_credential("client-secret", environ={**IDS, "AZURE_CLIENT_SECRET": "cs-value-123"},
                                          options=options)
    with pytest.raises(AuthError) as caught:
        preflight(credential, choice, secrets=("cs-value-123",))
    assert caught.value.message.startswith("ClientSecretCredential (--auth client-secret) could not get a token")
    assert "cs-value-123" not in caught.value.message
    assert "AZURE_CLIENT_SECRET" in (caught.value.hint or "")
