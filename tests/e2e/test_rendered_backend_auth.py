"""toolkit.yaml -> render -> publish (real SDK) -> gateway -> simulated Azure OpenAI, in each backend auth mode:
what render publishes authenticates like it must on Azure, and serves only the operations of its spec."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from toolkit.config import load_config
from toolkit.local import local_gateway

REPO = Path(__file__).resolve().parents[2]
KEY = "0123456789abcdef0123456789abcdef"
BODY = {"messages": [{"role": "user", "content": "hi"}], "input": "hi"}  # a chat and an embeddings body
CONFIG = """\
apis:
  - name: llm
    path: llm
    subscription_key_header: Ocp-Apim-Subscription-Key
    backend: aoai
    spec: {spec}
{api_auth}
backends:
  - name: aoai
    url: https://aoai.openai.azure.com
{backend_auth}
environments:
  local: {{target: local}}
"""


def _call(tmp_path: Path, *, backend_auth: str = "", api_auth: str = "", spec: str = "azure-openai-inference",
          requests: list[tuple[str, str]]) -> list[int]:
    shutil.copytree(REPO / "policies", tmp_path / "policies", dirs_exist_ok=True)
    path = tmp_path / "toolkit.yaml"
    path.write_text(CONFIG.format(spec=spec, api_auth=api_auth, backend_auth=backend_auth), encoding="utf-8")
    config = load_config(path, "local", environ={"AOAI_KEY": KEY})
    statuses = []
    with local_gateway(config, backend_api_keys={"aoai": KEY}) as gateway:
        headers = {"Ocp-Apim-Subscription-Key": gateway.subscription_key}
        for method, suffix in requests:
            url = f"{gateway.gateway_url}/llm/openai/deployments/gpt-4o-mini/{suffix}"
            statuses.append(httpx.request(method, url, json=BODY, headers=headers, timeout=30).status_code)
    return statuses


CHAT = ("POST", "chat/completions?api-version=2024-10-21")


@pytest.mark.parametrize(("backend_auth", "api_auth"), [
    ("    auth: managed-identity", ""),
    ("    auth: {api_key: '${AOAI_KEY}'}", ""),
    ("", "    auth: {api_key: '${AOAI_KEY}'}"),
    ("", "    auth: managed-identity"),
], ids=["backend managed identity", "backend api-key", "API api-key", "API managed identity"])
def test_each_auth_mode_gets_200(tmp_path: Path, backend_auth: str, api_auth: str) -> None:
    assert _call(tmp_path, backend_auth=backend_auth, api_auth=api_auth, requests=[CHAT]) == [200]


def test_without_auth_azure_openai_answers_401_and_operations_route(tmp_path: Path) -> None:
    assert _call(tmp_path, requests=[CHAT]) == [401]
    statuses = _call(tmp_path, backend_auth="    auth: managed-identity", requests=[
        ("GET", "chat/completions?api-version=2024-10-21"),  # wrong method: no such operation
        ("POST", "chat/completions"),  # an operation of the spec, but Azure OpenAI needs its api-version
        ("POST", "embeddings?api-version=2024-10-21"),  # routed: Azure OpenAI refuses it on a chat deployment
        ("POST", "fine_tuning/jobs?api-version=2024-10-21"),  # not an inference operation
    ])
    assert statuses == [404, 404, 400, 404]


def test_wildcard_operations_forward_any_path(tmp_path: Path) -> None:
    statuses = _call(tmp_path, spec="wildcard", backend_auth="    auth: managed-identity",
                     requests=[CHAT, ("PATCH", "chat/completions?api-version=2024-10-21")])
    assert statuses == [200, 404]
