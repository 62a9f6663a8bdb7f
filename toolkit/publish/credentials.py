"""Credentials for Azure Resource Manager (azure-identity), chosen by ``--auth``, checked up front.

A preflight ``get_token`` runs under a hard time bound (10 s by default), so an offline machine or a
misconfigured credential fails fast with a message that names the credential tried and what to set,
instead of hanging inside the SDK's retries. azure-identity is imported lazily.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from toolkit.errors import AuthError
from toolkit.publish.errors import redact

AUTH_CHOICES = ("default", "cli", "workload-identity", "client-secret", "managed-identity")
ARM_SCOPE = "https://management.azure.com/.default"
PREFLIGHT_TIMEOUT = 10.0
GITHUB_AUDIENCE = "api://AzureADTokenExchange"
# Token requests get one quick retry at most: the preflight bound covers the whole attempt.
_ATTEMPT = re.compile(r"^[A-Za-z]+Credential: ")
TRANSPORT_OPTIONS = {"retry_total": 1, "retry_backoff_factor": 0.2, "connection_timeout": 4, "read_timeout": 6}


@dataclass(frozen=True)
class CredentialChoice:
    """Which credential was built, and what a user does to make it work (for messages)."""

    auth: str
    name: str
    remedy: str


def azure_credential(auth: str, *, tenant_id: str | None = None, client_id: str | None = None,
                     environ: Mapping[str, str] | None = None,
                     options: Mapping[str, Any] | None = None) -> tuple[Any, CredentialChoice]:
    """The azure-identity credential for ``auth`` (one of AUTH_CHOICES); AuthError when settings are missing.

    ``options`` go to the credential as keywords (e.g. ``authority`` for a sovereign cloud).
    """
    import azure.identity as identity

    from toolkit.publish.client import quiet_azure_logging

    quiet_azure_logging()
    env = os.environ if environ is None else environ
    kwargs = {**TRANSPORT_OPTIONS, **(options or {})}
    tenant = tenant_id or env.get("AZURE_TENANT_ID")
    client = client_id or env.get("AZURE_CLIENT_ID")
    if auth == "default":
        choice = CredentialChoice(auth, "DefaultAzureCredential",
                                  "run `az login`, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, "
                                  "or use a managed identity; in CI pin one with --auth")
        return identity.DefaultAzureCredential(process_timeout=8, **kwargs), choice
    if auth == "cli":
        choice = CredentialChoice(auth, "AzureCliCredential", "install the Azure CLI and run `az login`")
        return identity.AzureCliCredential(tenant_id=tenant or "", process_timeout=8), choice
    if auth == "managed-identity":
        choice = CredentialChoice(auth, "ManagedIdentityCredential",
                                  "run on a host with a managed identity (set AZURE_CLIENT_ID for a user-assigned one)")
        return identity.ManagedIdentityCredential(client_id=client, **kwargs), choice
    if auth == "client-secret":
        choice = CredentialChoice(auth, "ClientSecretCredential",
                                  "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET")
        secret = env.get("AZURE_CLIENT_SECRET")
        _require(choice, AZURE_TENANT_ID=tenant, AZURE_CLIENT_ID=client, AZURE_CLIENT_SECRET=secret)
        return identity.ClientSecretCredential(tenant, client, secret, **kwargs), choice
    if auth == "workload-identity":
        if env.get("ACTIONS_ID_TOKEN_REQUEST_URL") and env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"):
            choice = CredentialChoice(auth, "ClientAssertionCredential (GitHub Actions OIDC)",
                                      "set AZURE_TENANT_ID and AZURE_CLIENT_ID (an app with a federated credential for "
                                      "this repository) and grant the job `permissions: id-token: write`")
            _require(choice, AZURE_TENANT_ID=tenant, AZURE_CLIENT_ID=client)
            return identity.ClientAssertionCredential(tenant, client, github_oidc_assertion(env), **kwargs), choice
        choice = CredentialChoice(auth, "WorkloadIdentityCredential",
                                  "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE "
                                  "(on GitHub Actions: grant `permissions: id-token: write`)")
        token_file = env.get("AZURE_FEDERATED_TOKEN_FILE")
        _require(choice, AZURE_TENANT_ID=tenant, AZURE_CLIENT_ID=client, AZURE_FEDERATED_TOKEN_FILE=token_file)
        return identity.WorkloadIdentityCredential(tenant_id=tenant, client_id=client, token_file_path=token_file,
                                                   **kwargs), choice
    raise AuthError(f"unknown --auth {auth!r}", hint=f"choose one of {', '.join(AUTH_CHOICES)}")


def _require(choice: CredentialChoice, **settings: str | None) -> None:
    missing = [name for name, value in settings.items() if not value]
    if missing:
        raise AuthError(f"{choice.name} (--auth {choice.auth}) needs {', '.join(missing)}, which are not set",
                        hint=f"{choice.remedy} (tenant_id and client_id may also come from toolkit.yaml)")


def github_oidc_assertion(environ: Mapping[str, str], *, transport: Any = None,
                          timeout: float = 8.0) -> Callable[[], str]:
    """A ``func`` for ClientAssertionCredential: fetches the GitHub Actions OIDC token for Azure AD."""
    url = environ["ACTIONS_ID_TOKEN_REQUEST_URL"]
    request_token = environ["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]

    def fetch() -> str:
        import httpx

        with httpx.Client(transport=transport, timeout=timeout) as http:
            try:
                response = http.get(httpx.URL(url).copy_merge_params({"audience": GITHUB_AUDIENCE}),
                                    headers={"Authorization": f"Bearer {request_token}"})
            except httpx.HTTPError as exc:
                raise AuthError(f"GitHub OIDC token request failed: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise AuthError(f"GitHub OIDC token request failed: HTTP {response.status_code}",
                            hint="grant the job `permissions: id-token: write`")
        try:
            value = response.json()["value"]
        except (ValueError, KeyError, TypeError):
            value = None
        if not isinstance(value, str) or not value:
            raise AuthError("GitHub OIDC token request returned no token")
        return value

    return fetch


def preflight(credential: Any, choice: CredentialChoice, *, timeout: float = PREFLIGHT_TIMEOUT,
              scope: str = ARM_SCOPE, secrets: tuple[str, ...] = ()) -> None:
    """Get one token within ``timeout`` seconds, or raise AuthError naming the credential and what to set."""
    failure: list[BaseException] = []

    def attempt() -> None:
        try:
            credential.get_token(scope)
        except BaseException as exc:  # reported below, in the caller's thread
            failure.append(exc)

    # A daemon thread: a credential stuck in a network call cannot hold the CLI past the bound.
    worker = threading.Thread(target=attempt, name="toolkit-credential-preflight", daemon=True)
    worker.start()
    worker.join(timeout)
    hint = choice.remedy
    if worker.is_alive():
        raise AuthError(f"{choice.name} (--auth {choice.auth}) did not return a token within {timeout:g} s "
                        "(offline, or a token endpoint that does not answer)", hint=hint)
    if failure:
        reason = redact(_reason(failure[0]), secrets)
        raise AuthError(f"{choice.name} (--auth {choice.auth}) could not get a token for Azure Resource Manager: {reason}",
                        hint=hint)


def _reason(exc: BaseException) -> str:
    """A compact azure-identity error: DefaultAzureCredential's one line per attempted credential, shortened."""
    text = str(getattr(exc, "message", None) or exc) or type(exc).__name__
    lines = [line.strip() for line in text.splitlines()
             if line.strip() and not line.strip().lower().startswith(("visit ", "to mitigate"))]
    attempts = [line for line in lines if _ATTEMPT.match(line)]
    if attempts:
        return "tried " + "; ".join(_shorten(line, 140) for line in attempts)
    return _shorten(" ".join(lines), 400) or type(exc).__name__


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."
