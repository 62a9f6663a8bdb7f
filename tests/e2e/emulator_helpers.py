"""Publishing a one-API gateway to a running emulator through the real SDK (for the end-to-end tests)."""

from __future__ import annotations

from typing import Any

from azure.mgmt.apimanagement.models import ApiCreateOrUpdateParameter, BackendContract, PolicyContract

from toolkit.emulator.runtime import RESOURCE_GROUP as RG
from toolkit.emulator.runtime import SERVICE_NAME as SVC
from toolkit.testing.emulator_servers import management_client

CHAT_PATH = "/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21"


def publish_chat_api(emulator: Any, policy: str, backends: dict[str, str], **api_options: Any) -> Any:
    """Backends (name → URL), the API ``chat`` at path ``openai`` with ``policy``; returns the SDK client."""
    client = management_client(emulator.management_url, emulator.ca_bundle_path)
    for name, url in backends.items():
        client.backend.create_or_update(RG, SVC, name, BackendContract(url=url, protocol="http"))
    client.api.begin_create_or_update(RG, SVC, "chat", ApiCreateOrUpdateParameter(
        path="openai", display_name="chat", protocols=["https"], **api_options)).result()
    client.api_policy.create_or_update(RG, SVC, "chat", "policy", PolicyContract(value=policy, format="rawxml"))
    return client
