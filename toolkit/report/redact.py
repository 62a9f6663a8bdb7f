"""Secrets never reach a report: known secret values and anything shaped like a bearer token are masked."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

MASK = "***"
# A JWT (three base64url parts, the first a JSON header "eyJ...") wherever it appears.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
# "Bearer <anything>" and "api-key: <anything>" as they could appear in an echoed header.
_BEARER = re.compile(r"(?i)(bearer\s+[\"']?)[^\s\"',;]+")
_API_KEY = re.compile(r"(?i)((?:api-key|ocp-apim-subscription-key)[\"']?\s*[:=]\s*[\"']?)[^\s\"',;]+")
# What a header or query parameter is named when its value is a credential (api-key, Ocp-Apim-Subscription-Key,
# code, sig, access_token, client_secret, password...).
_CREDENTIAL_WORDS = "key|code|sig|token|secret|password|pwd"
_CREDENTIAL_NAME = re.compile(rf"(?i)^authorization$|{_CREDENTIAL_WORDS}")
# A URL query parameter whose name says it is a credential, also inside XML (&amp;) and JSON text; other
# parameters (api-version) stay readable.
_QUERY_CREDENTIAL = re.compile(
    rf"(?i)((?:[?&]|&amp;)[^=&#\s\"'<>]*(?:{_CREDENTIAL_WORDS})[^=&#\s\"'<>]*=[\"']?)[^&#\s\"'<>]+")


def is_credential_name(name: str) -> bool:
    """Whether a header or query parameter called ``name`` carries a credential (its value is a secret)."""
    return bool(_CREDENTIAL_NAME.search(name))


def mask_credentials(text: str) -> str:
    """``text`` with what is shaped like a credential masked: JWTs, ``Bearer <token>``, ``api-key: <key>`` and
    credential query parameters of URLs. For text whose secrets are not known by value (a plan's diff)."""
    text = _JWT.sub(MASK, text)
    text = _BEARER.sub(lambda m: m.group(1) + MASK, text)
    text = _API_KEY.sub(lambda m: m.group(1) + MASK, text)
    return _QUERY_CREDENTIAL.sub(lambda m: m.group(1) + MASK, text)


class Redactor:
    """Masks the given secret values (at least 6 characters: shorter ones would mask ordinary words)."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return mask_credentials(text)


_SECRET_NAME = re.compile(r"(?i)(KEY|TOKEN|SECRET|PASSWORD)")


def environment_secrets(environ: Mapping[str, str]) -> list[str]:
    """Values of environment variables whose names say they are secret (APIM_SUBSCRIPTION_KEY,
    TOOLKIT_EMULATOR_TOKEN, AZURE_CLIENT_SECRET...)."""
    return [value for name, value in environ.items() if _SECRET_NAME.search(name) and value]


def masked(value: Any, redact: Callable[[str], str]) -> Any:
    """``value`` (JSON-like: dicts, lists, scalars) with every string passed through ``redact``."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: masked(item, redact) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [masked(item, redact) for item in value]
    return value
