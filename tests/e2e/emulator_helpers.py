"""Publishing a one-API gateway to a running emulator through the real SDK (for the end-to-end tests)."""

from __future__ import annotations

from typing import Any

from azure.mgmt.apimanagement.models import (
    ApiCreateOrUpdateParameter,
    BackendContract,
    BackendCredentialsContract,
    OperationContract,
    PolicyContract,
)

from toolkit.emulator.runtime import RESOURCE_GROUP as RG
from toolkit.emulator.runtime import SERVICE_NAME as SVC
from toolkit.testing.emulator_servers import management_client

CHAT_PATH = "/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21"


def publish_chat_api(emulator: Any, policy: str, backends: dict[str, str], **api_options: Any) -> Any:
    """Backends (name → URL, each authenticating with its simulated instance's api-key, as on Azure), the API
    ``chat`` at path ``openai`` with GET and POST operations on every path, and ``policy``; returns the SDK client."""
    client = management_client(emulator.management_url, emulator.ca_bundle_path, token=emulator.control_token)
    for name, url in backends.items():
        key = BackendCredentialsContract(header={"api-key": [emulator.farm.api_key(name)]})
        client.backend.create_or_update(RG, SVC, name, BackendContract(url=url, protocol="http", credentials=key))
    client.api.begin_create_or_update(RG, SVC, "chat", ApiCreateOrUpdateParameter(
        path="openai", display_name="chat", protocols=["https"], **api_options)).result()
    for method in ("GET", "POST"):
        client.api_operation.create_or_update(RG, SVC, "chat", f"all-{method.lower()}", OperationContract(
            display_name=f"all {method}", method=method, url_template="/*"))
    client.api_policy.create_or_update(RG, SVC, "chat", "policy", PolicyContract(value=policy, format="rawxml"))
    return client
