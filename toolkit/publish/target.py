"""connect_target(environment) -> ApimTarget: the same client for Azure and for the local emulator.

Azure: subscription, resource group and service come from the environment; the credential from
``--auth`` (credentials.py), checked with a bounded preflight. Local: the emulator's management
API over TLS (``base_url`` + its CA bundle) with the emulator's per-start token as the SDK's bearer
token (TOOLKIT_EMULATOR_TOKEN, or the token file of TOOLKIT_EMULATOR_URL: see toolkit.emulator.access),
from ``--management-url`` / ``--ca-bundle``, TOOLKIT_MANAGEMENT_URL / TOOLKIT_CA_BUNDLE, or an emulator object (anything with
``management_url``, ``ca_bundle_path``, ``credential``, ``subscription_id``, ``resource_group``,
``service``) such as the in-process one (:func:`start_local_emulator` is the place to plug it in).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from toolkit.config.models import EnvironmentConfig
from toolkit.errors import InputError
from toolkit.publish.client import ApimClient, ClientSettings, create_sdk_client
from toolkit.publish.retry import RetryPolicy

LOCAL_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
LOCAL_RESOURCE_GROUP = "toolkit-local"
LOCAL_SERVICE = "toolkit-local"
LOCAL_POLLING_INTERVAL = 0.02


@dataclass
class ApimTarget:
    """A connected APIM service: the client, a label for messages, and what to release when done."""

    client: ApimClient
    label: str
    local: bool
    closers: list[Callable[[], object]] = field(default_factory=list)

    def close(self) -> None:
        """Close the client and anything started for this target."""
        self.client.close()
        for close in reversed(self.closers):
            close()
        self.closers.clear()

    def __enter__(self) -> ApimTarget:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class LocalEndpoint:
    """Where and how to reach a local emulator's management API."""

    management_url: str
    ca_bundle_path: str | None
    credential: Any
    subscription_id: str = LOCAL_SUBSCRIPTION
    resource_group: str = LOCAL_RESOURCE_GROUP
    service: str = LOCAL_SERVICE
    label: str | None = None  # stable name for plan files (an in-process emulator's port changes every run)


def connect_target(
    environment: EnvironmentConfig,
    *,
    management_url: str | None = None,
    ca_bundle: str | None = None,
    auth: str | None = None,
    emulator: Any = None,
    environ: Mapping[str, str] | None = None,
    settings: ClientSettings | None = None,
    retry: RetryPolicy | None = None,
    preflight_timeout: float | None = None,
) -> ApimTarget:
    """The target of ``environment`` (``target: local`` or ``azure``), ready for publish calls."""
    env = os.environ if environ is None else environ
    retry = retry or RetryPolicy()
    if environment.target == "local":
        endpoint, closers = local_endpoint(environment, management_url=management_url, ca_bundle=ca_bundle,
                                           emulator=emulator, environ=env)
        chosen = settings or ClientSettings(polling_interval=LOCAL_POLLING_INTERVAL)
        sdk = create_sdk_client(endpoint.credential, endpoint.subscription_id, base_url=endpoint.management_url,
                                ca_bundle=endpoint.ca_bundle_path, api_version=environment.api_version, settings=chosen)
        label = endpoint.label or f"local emulator at {endpoint.management_url}"
        client = ApimClient(sdk, endpoint.resource_group, endpoint.service, endpoint=endpoint.management_url,
                            settings=chosen, retry=retry, subscription_id=endpoint.subscription_id)
        return ApimTarget(client, label, local=True, closers=closers)
    if management_url or emulator is not None:
        raise InputError("--management-url and --ca-bundle are for local targets; this environment targets Azure")
    return _azure_target(environment, auth or environment.auth, env, settings or ClientSettings(), retry,
                         preflight_timeout)


def _azure_target(environment: EnvironmentConfig, auth: str, env: Mapping[str, str], settings: ClientSettings,
                  retry: RetryPolicy, preflight_timeout: float | None) -> ApimTarget:
    from toolkit.publish.credentials import PREFLIGHT_TIMEOUT, azure_credential, preflight

    assert environment.subscription_id and environment.resource_group and environment.service  # validated by config
    credential, choice = azure_credential(auth, tenant_id=environment.tenant_id, client_id=environment.client_id,
                                          environ=env)
    secrets = tuple(v for v in (env.get("AZURE_CLIENT_SECRET"),) if v)
    preflight(credential, choice, timeout=preflight_timeout or PREFLIGHT_TIMEOUT, secrets=secrets)
    sdk = create_sdk_client(credential, environment.subscription_id, api_version=environment.api_version,
                            settings=settings)
    label = (f"APIM service '{environment.service}' (resource group '{environment.resource_group}', "
             f"subscription {environment.subscription_id})")
    client = ApimClient(sdk, environment.resource_group, environment.service, endpoint="Azure Resource Manager",
                        settings=settings, retry=retry, subscription_id=environment.subscription_id)
    return ApimTarget(client, label, local=False)


def local_endpoint(environment: EnvironmentConfig, *, management_url: str | None = None, ca_bundle: str | None = None,
                   emulator: Any = None, environ: Mapping[str, str] | None = None
                   ) -> tuple[LocalEndpoint, list[Callable[[], object]]]:
    """The endpoint of a local target (and closers for anything started to serve it)."""
    from toolkit.emulator.management.credential import StaticTokenCredential

    env = os.environ if environ is None else environ
    closers: list[Callable[[], object]] = []
    url = management_url or env.get("TOOLKIT_MANAGEMENT_URL")
    if emulator is None and not url:
        emulator = start_local_emulator(environment, env)
        if hasattr(emulator, "close"):
            closers.append(emulator.close)
    if isinstance(emulator, LocalEndpoint):
        endpoint = emulator
    elif emulator is not None:
        endpoint = from_emulator(emulator)
    else:
        assert url is not None
        endpoint = LocalEndpoint(url.rstrip("/"), ca_bundle or env.get("TOOLKIT_CA_BUNDLE"), None)
    if urlsplit(endpoint.management_url).scheme != "https":
        for close in closers:
            close()
        raise InputError(f"management URL {endpoint.management_url!r} must be https "
                         "(the SDK sends bearer tokens over TLS only)",
                         hint="the emulator serves its management API over TLS; pass its https URL and --ca-bundle")
    if endpoint.credential is None:  # a URL: the token comes from the environment (after the https check)
        endpoint = replace(endpoint, credential=StaticTokenCredential(_emulator_token(env)))
    overrides = {k: v for k, v in (("subscription_id", environment.subscription_id),
                                   ("resource_group", environment.resource_group),
                                   ("service", environment.service)) if v}
    return replace(endpoint, **overrides), closers


def from_emulator(emulator: Any) -> LocalEndpoint:
    """A LocalEndpoint from an emulator object (duck-typed; see the module docstring)."""
    return LocalEndpoint(
        str(emulator.management_url).rstrip("/"),
        str(emulator.ca_bundle_path) if getattr(emulator, "ca_bundle_path", None) else None,
        emulator.credential,
        getattr(emulator, "subscription_id", LOCAL_SUBSCRIPTION),
        getattr(emulator, "resource_group", LOCAL_RESOURCE_GROUP),
        getattr(emulator, "service", LOCAL_SERVICE),
        getattr(emulator, "label", None),
    )


def start_local_emulator(environment: EnvironmentConfig, environ: Mapping[str, str] | None = None) -> Any:
    """The emulator a local target publishes to: a running one (TOOLKIT_EMULATOR_URL, its control URL), or
    an in-process one whose state persists in ``environment.emulator_state`` (so `toolkit emulator start
    --state` and later commands see what was applied)."""
    env = os.environ if environ is None else environ
    control_url = env.get("TOOLKIT_EMULATOR_URL")
    if control_url:
        return running_emulator(control_url, env)
    from toolkit.emulator.runtime import Emulator

    return Emulator(state_file=environment.emulator_state).start()


def _emulator_token(env: Mapping[str, str], control_url: str | None = None) -> str:
    """The running emulator's token (TOOLKIT_EMULATOR_TOKEN, else its token file); InputError when none is found."""
    from toolkit.emulator.access import TOKEN_ENV, find_token, token_file_for

    token = find_token(env, control_url)
    if token is None:
        where = f" or {token_file_for(control_url or env.get('TOOLKIT_EMULATOR_URL') or '')}" \
            if control_url or env.get("TOOLKIT_EMULATOR_URL") else ""
        raise InputError(f"the local emulator's management API needs its token: set {TOKEN_ENV}{where}",
                         hint="`toolkit emulator start` prints `export TOOLKIT_EMULATOR_TOKEN=...` and writes it to a file")
    return token


def running_emulator(control_url: str, environ: Mapping[str, str] | None = None) -> LocalEndpoint:
    """The management endpoint of an emulator started by `toolkit emulator start`, from its control API.

    A wrong token is an AuthError and an answer of the wrong shape a RemoteError (exit 4 both), like
    every other command that reads the control API (toolkit.emulator.control_answers)."""
    import httpx

    from toolkit.emulator.access import bearer
    from toolkit.emulator.management.credential import StaticTokenCredential
    from toolkit.errors import AuthError, RemoteError
    from toolkit.emulator.control_answers import OPTIONAL, read_answer, unexpected

    env = os.environ if environ is None else environ
    token = _emulator_token(env, control_url)
    where = control_url.rstrip("/") + "/health"
    try:
        answer = httpx.get(where, headers=bearer(token), timeout=5.0)
    except httpx.HTTPError as exc:
        raise RemoteError(f"no emulator answers at TOOLKIT_EMULATOR_URL={control_url} ({type(exc).__name__})",
                          hint="start one with `toolkit emulator start`, or unset TOOLKIT_EMULATOR_URL") from None
    if answer.status_code == 401:
        raise AuthError(f"the emulator at TOOLKIT_EMULATOR_URL={control_url} refused the token "
                        "(TOOLKIT_EMULATOR_TOKEN or its token file is from another run)",
                        hint="set TOOLKIT_EMULATOR_TOKEN to the token `toolkit emulator start` printed "
                             "(it also writes it to a file clients read)")
    if answer.status_code >= 300:
        raise unexpected(where, f"status {answer.status_code}, not 200")
    text = (str, OPTIONAL)
    health = read_answer(answer, {"management_url": str, "ca_bundle_path": text, "subscription_id": text,
                                  "resource_group": text, "service": text}, where)
    if urlsplit(health["management_url"]).scheme != "https":
        raise unexpected(where, f"{answer.status_code} with 'management_url' not an https URL")
    return LocalEndpoint(health["management_url"], health.get("ca_bundle_path"), StaticTokenCredential(token),
                         health.get("subscription_id") or LOCAL_SUBSCRIPTION,
                         health.get("resource_group") or LOCAL_RESOURCE_GROUP, health.get("service") or LOCAL_SERVICE)
