"""A static bearer-token credential for the local emulator: the SDK sends the emulator's per-start token."""

from __future__ import annotations

import time
from typing import Any


class StaticTokenCredential:
    """azure-core TokenCredential returning one fixed token (the emulator's ``control_token``; never for Azure)."""

    def __init__(self, token: str = "local-emulator-token", lifetime: int = 3600) -> None:
        self._token = token
        self._lifetime = lifetime

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        """An ``AccessToken`` for any scope."""
        from azure.core.credentials import AccessToken

        return AccessToken(self._token, int(time.time()) + self._lifetime)

    def close(self) -> None:
        """Nothing to release."""

    def __repr__(self) -> str:
        return "StaticTokenCredential(token=***)"
