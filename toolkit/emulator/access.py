"""The emulator's access token: one random token per start, required by the management and control APIs.

Clients send ``Authorization: Bearer <token>``. A client finds the token of a running emulator in
``TOOLKIT_EMULATOR_TOKEN``, else in the token file `toolkit emulator start` writes (mode 0600) at
``~/.toolkit/emulator/<control port>.token``, keyed by the control URL in ``TOOLKIT_EMULATOR_URL``.
The in-process :class:`~toolkit.emulator.runtime.Emulator` exposes it as ``emulator.control_token``.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

URL_ENV = "TOOLKIT_EMULATOR_URL"
TOKEN_ENV = "TOOLKIT_EMULATOR_TOKEN"
TOKEN_DIR = Path("~/.toolkit/emulator")


def new_token() -> str:
    """A fresh, unguessable token (256 bits)."""
    return secrets.token_urlsafe(32)


def bearer(token: str) -> dict[str, str]:
    """The header that carries ``token``."""
    return {"Authorization": f"Bearer {token}"}


def token_file_for(control_url: str, directory: Path | None = None) -> Path:
    """Where `toolkit emulator start` writes the token of the emulator whose control API is ``control_url``."""
    port = urlsplit(control_url).port or 80
    return (directory or TOKEN_DIR).expanduser() / f"{port}.token"


def write_token_file(path: Path, token: str) -> None:
    """Write ``token`` to ``path`` with mode 0600 (never readable by others, even for a moment), atomically."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # mkstemp: mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(token + "\n")
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def find_token(environ: Mapping[str, str] | None = None, control_url: str | None = None) -> str | None:
    """The token of the running emulator: ``TOOLKIT_EMULATOR_TOKEN``, else its token file, else None."""
    env = os.environ if environ is None else environ
    token = (env.get(TOKEN_ENV) or "").strip()
    if token:
        return token
    url = control_url or env.get(URL_ENV)
    if not url:
        return None
    try:
        return token_file_for(url).read_text(encoding="utf-8").strip() or None
    except (OSError, UnicodeDecodeError, ValueError):
        return None
