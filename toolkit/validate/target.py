"""Where validation sends traffic: the emulator's gateway (with its control API) or APIM on Azure.

A target is a gateway URL, a subscription key and a way to get a valid JWT. Only the emulator has a
control API (faults, clock, extra subscriptions, test-issuer tokens); on Azure `control` is None and
scenarios that need such a stimulus say so as an inconclusive verdict.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from toolkit.config.models import EnvironmentConfig
from toolkit.errors import AuthError, InputError
from toolkit.validate.control import ControlClient

EMULATOR_URL_VAR = "TOOLKIT_EMULATOR_URL"
SECOND_KEY_VAR = "TOOLKIT_VALIDATE_SECOND_KEY"  # a second APIM subscription's key, for isolation checks on Azure


@dataclass
class Target:
    """A gateway to validate."""

    label: str
    gateway_url: str
    subscription_key: str | None
    control: ControlClient | None = None
    credential: Any = None      # azure-identity TokenCredential (get_token(scope) -> AccessToken)
    second_key: str | None = None
    _keys: dict[str, str] = field(default_factory=dict)

    @property
    def is_emulator(self) -> bool:
        return self.control is not None

    def valid_token(self, audience: str) -> str | None:
        """A JWT a correctly configured validate-jwt accepts; None when the target has no way to get one."""
        if self.control is not None:
            return self.control.token(audience=audience)
        if self.credential is None:
            return None
        scope = audience.rstrip("/") + "/.default"
        try:
            return str(self.credential.get_token(scope).token)
        except Exception as exc:  # noqa: BLE001 - azure-identity raises many types; all mean "no token"
            raise AuthError(f"could not get a token for {scope} ({type(exc).__name__})",
                            hint="sign in (az login) or configure the environment's auth") from None

    def fresh_key(self, name: str) -> str | None:
        """A new subscription of the run's own (an empty cache partition, a fresh token counter); only the
        emulator can make one, elsewhere None (the scenario then uses the target's key)."""
        if self.control is None:
            return None
        if name not in self._keys:
            self._keys[name] = self.control.subscription(name)
        return self._keys[name]

    def other_key(self, name: str) -> str | None:
        """A second subscription, for isolation checks (vary-by, counter keys): the emulator makes one; on
        Azure it is TOOLKIT_VALIDATE_SECOND_KEY when set."""
        return self.fresh_key(name) if self.control is not None else self.second_key

    def close(self) -> None:
        if self.control is not None:
            self.control.close()


def open_target(environment: EnvironmentConfig, *, emulator: Any = None, credential: Any = None,
                environ: Mapping[str, str] | None = None) -> Target:
    """The target of ``environment``: Azure from its gateway_url and subscription_key; a local target is
    the running emulator (``emulator`` in-process, or TOOLKIT_EMULATOR_URL)."""
    env = os.environ if environ is None else environ
    if environment.target == "azure":
        return _azure(environment, credential, env.get(SECOND_KEY_VAR) or None)
    from toolkit.emulator.access import find_token

    if emulator is not None:
        control_url, token = str(emulator.control_url), getattr(emulator, "control_token", None)
    else:
        control_url = env.get(EMULATOR_URL_VAR, "")
        if not control_url:
            raise InputError(f"validation checks a running gateway: set {EMULATOR_URL_VAR} to the control URL "
                             "`toolkit emulator start` prints (then `toolkit apply`), or use an azure environment")
        token = find_token(env, control_url)  # TOOLKIT_EMULATOR_TOKEN, else the token file of that emulator
    control = ControlClient(control_url, token=token)
    try:
        gateway_url = str(control.health()["gateway_url"])
        key = control.subscription("toolkit-validate")
    except BaseException:
        control.close()
        raise
    return Target(f"local emulator at {gateway_url}", gateway_url.rstrip("/"), key, control=control)


def _azure(environment: EnvironmentConfig, credential: Any, second_key: str | None) -> Target:
    missing = [name for name in ("gateway_url", "subscription_key") if not getattr(environment, name)]
    if missing:
        raise InputError(f"validating an azure environment needs {' and '.join(missing)} in its config "
                         "(e.g. gateway_url: ${APIM_BASE_URL}, subscription_key: ${APIM_SUBSCRIPTION_KEY})")
    if credential is None:
        from toolkit.publish.credentials import azure_credential

        credential, _ = azure_credential(environment.auth, tenant_id=environment.tenant_id,
                                         client_id=environment.client_id)
    url = str(environment.gateway_url).rstrip("/")
    return Target(f"APIM gateway {url}", url, environment.subscription_key, credential=credential,
                  second_key=second_key)
