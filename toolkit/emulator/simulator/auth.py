"""What a simulated Azure OpenAI instance demands before it serves a request: credentials, then api-version.

Azure OpenAI accepts its own ``api-key`` or a Microsoft Entra ID bearer token for
``https://cognitiveservices.azure.com``; the simulated instance accepts its own key or a token of the
emulator's issuer for that audience (what ``authentication-managed-identity`` gets). Refusals use the
bodies Azure OpenAI is widely reported to send (sources in docs/emulator.md):

- no valid key and no bearer token: 401 ``{"error": {"code": "401", "message": "Access denied due to
  invalid subscription key or wrong API endpoint. ..."}}``;
- a bearer token that is not valid for the audience: 401 ``{"statusCode": 401, "message": "Unauthorized.
  Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have
  expired."}``;
- no ``api-version`` query parameter: 404 ``{"error": {"code": "404", "message": "Resource not found"}}``.

Emulator decisions: credentials are checked before the api-version; a valid bearer token is accepted
whatever ``api-key`` header comes with it (APIM forwards the caller's subscription key, which the
AI-Gateway labs send in ``api-key`` next to the managed-identity token).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from toolkit.emulator.simulator.payloads import error_body

INVALID_KEY = ("Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid "
               "key for an active subscription and use a correct regional API endpoint for your resource.")
INVALID_TOKEN = ("Unauthorized. Access token is missing, invalid, audience is incorrect "
                 "(https://cognitiveservices.azure.com), or have expired.")


@dataclass(frozen=True)
class Refusal:
    """An answer instead of the operation: status and JSON body."""

    status: int
    body: dict[str, Any]


class BackendAuth:
    """The api-key of one simulated instance and the bearer-token check it shares with the others."""

    def __init__(self, api_key: str, verify_bearer: Callable[[str], bool] | None = None) -> None:
        self.api_key = api_key
        self._verify_bearer = verify_bearer

    def refusal(self, headers: Iterable[tuple[bytes, bytes]], query: bytes) -> Refusal | None:
        """Why this request is refused (credentials, then api-version), or None when it may proceed."""
        api_key = authorization = None
        for name, value in headers:
            lowered = name.lower()
            if lowered == b"api-key":
                api_key = value.decode("latin-1").strip()
            elif lowered == b"authorization":
                authorization = value.decode("latin-1").strip()
        scheme, _, token = (authorization or "").partition(" ")
        bearer_ok = bool(scheme.lower() == "bearer" and token.strip() and self._verify_bearer is not None
                         and self._verify_bearer(token.strip()))
        key_ok = api_key is not None and hmac.compare_digest(api_key.encode(), self.api_key.encode())
        if not (bearer_ok or key_ok):
            if authorization and not key_ok and api_key is None:
                return Refusal(401, {"statusCode": 401, "message": INVALID_TOKEN})
            return Refusal(401, error_body(401, INVALID_KEY))
        if not parse_qs(query.decode("latin-1")).get("api-version"):
            return Refusal(404, error_body(404, "Resource not found"))
        return None
