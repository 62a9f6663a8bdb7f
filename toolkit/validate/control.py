"""The one client of the emulator's control API (faults, clock, subscriptions, test tokens), over HTTP only.

Validation never reaches into the emulator's Python objects: what a test or a user can do to a running
`toolkit emulator start`, validation does the same way. Sends `Authorization: Bearer <token>` when the
emulator was started with a control token (TOOLKIT_EMULATOR_TOKEN, or `emulator.control_token`).

Every answer read is checked for its shape (toolkit.emulator.control_answers).
"""

from __future__ import annotations

from typing import Any

import httpx

from toolkit.emulator.control_answers import Shape, check_fields, check_jwt, read_answer
from toolkit.errors import AuthError, RemoteError

class ControlClient:
    """Emulator-only stimuli, each one HTTP call."""

    def __init__(self, control_url: str, *, token: str | None = None, transport: httpx.BaseTransport | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url = control_url.rstrip("/")
        self.secret = token  # the control token (reports mask it)
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=30.0, transport=transport)

    def close(self) -> None:
        self._http.close()

    def _send(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        try:
            response = self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise RemoteError(f"the emulator's control API at {self.url} did not answer {method} {path} "
                              f"({type(exc).__name__})", hint="is `toolkit emulator start` still running?") from None
        if response.status_code == 401:
            raise AuthError(f"the emulator's control API at {self.url} refused the token",
                            hint="set TOOLKIT_EMULATOR_TOKEN to the token `toolkit emulator start` printed")
        if response.status_code >= 400:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError, IndexError):
                message = response.text[:200]
            raise RemoteError(f"the emulator's control API refused {method} {path}: {response.status_code} "
                              f"{' '.join(str(message).split())[:200]}")
        return response

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None, *,
              shape: Shape | None = None) -> dict[str, Any]:
        """The answer of one call, checked against ``shape`` (None: the body is not read)."""
        response = self._send(method, path, body)
        return {} if shape is None else read_answer(response, shape, self.url + path)

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health", shape={"gateway_url": str})

    def reset(self) -> None:
        """Breakers, token counters, cache and simulated backends back to fresh."""
        self._call("POST", "/reset")

    def now(self) -> float:
        return float(self._call("GET", "/clock", shape={"now": float})["now"])

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock forward (trip durations, token windows) without waiting."""
        self._call("POST", "/clock", {"advance": seconds}, shape={"now": float})

    def subscription(self, name: str) -> str:
        """A subscription key (created or replaced under ``name``)."""
        return str(self._call("POST", "/subscriptions", {"name": name}, shape={"primaryKey": str})["primaryKey"])

    def fail(self, backend: str, status: int, count: int, retry_after: float | None = None) -> None:
        """The simulated backend answers its next ``count`` requests with ``status``."""
        body: dict[str, Any] = {"status": status, "count": count}
        if retry_after is not None:
            body["retry_after"] = retry_after
        self._call("POST", f"/backends/{backend}/faults", body, shape={})

    def heal(self, backend: str) -> None:
        """Drop pending faults of a simulated backend."""
        self._call("POST", f"/backends/{backend}/reset")

    def backends(self) -> dict[str, Any]:
        """Each simulated backend by name: its URL, pending faults and state."""
        where, response = self.url + "/backends", self._send("GET", "/backends")
        states = read_answer(response, {"backends": dict}, where)["backends"]
        for name, state in states.items():
            check_fields(state, {"url": str, "pending_faults": list}, where, f"{response.status_code} with ",
                         f"backend {name!r}")
        return dict(states)

    def token(self, **options: Any) -> str:
        """A JWT from the emulator's test issuer (options: claims, audience, subject, expires_in, not_before)."""
        where, response = self.url + "/tokens", self._send("POST", "/tokens", options)
        token = read_answer(response, {"token": str}, where)["token"]
        return check_jwt(token, where, f"{response.status_code} with ")
