"""What the end-to-end tests send to the sample gateway: a chat body and the credentials it needs.

Imported by name (`from e2e_requests import ...`), not from conftest: a `conftest` import resolves to whichever
conftest.py was imported first when several test folders are collected together.
"""

from __future__ import annotations

from pathlib import Path

from toolkit.local import LocalGateway

REPO = Path(__file__).resolve().parents[2]
API_VERSION = "2024-10-21"


def chat_body(question: str = "What is climate change?") -> dict[str, object]:
    return {"messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": question}]}


def auth_headers(gateway: LocalGateway) -> dict[str, str]:
    token = gateway.emulator.mint_token(audience="api://toolkit-gateway")
    return {"api-key": gateway.subscription_key, "Authorization": f"Bearer {token}"}
