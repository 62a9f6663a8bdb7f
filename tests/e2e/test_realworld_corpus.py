"""Real-world APIM policy documents (tests/fixtures/realworld) published to the emulator through the real SDK.

Each document gets what it references (backends, named values, a content-safety API for the labs
that call one through the gateway), with its placeholders filled as its repository's Bicep or
notebook fills them (`FILLS`). APIM accepts every document. The emulator must accept each one
except those `docs/emulator.md` lists (with the reason) under "Real-world policy documents the
emulator refuses"; at least 95 % are accepted, and every accepted one answers a chat request
through the gateway without a 500.

Documents that use ``<authentication-managed-identity>`` need that handler (built separately);
while the registry lacks it they are skipped and counted apart (see `test_acceptance_rate`).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.apimanagement.models import (
    ApiCreateOrUpdateParameter,
    BackendContract,
    BackendCredentialsContract,
    NamedValueCreateContract,
    PolicyContract,
)

from toolkit.emulator.runtime import RESOURCE_GROUP as RG
from toolkit.emulator.runtime import SERVICE_NAME as SVC
from toolkit.emulator.runtime import Emulator
from toolkit.testing.emulator_servers import management_client

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "fixtures" / "realworld"
DOCUMENTS = sorted(p.relative_to(CORPUS).as_posix() for p in (CORPUS / "policies").glob("*/*.xml"))
DOCS = REPO / "docs" / "emulator.md"
API, API_PATH = "corpus", "openai"
CHAT_URL = "/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21"
GUID = "11111111-2222-3333-4444-555555555555"
STATUSES: dict[str, int] = {}  # document → status of its chat request (printed by test_acceptance_rate)

# Placeholders the repositories' own Bicep/notebooks replace before publishing.
FILLS: dict[str, str] = {
    "{backend-id}": "llm-backend",  # replace('{backend-id}', <the lab's backend or pool>)
    "{0}": "llm-backend",  # genai-gateway-apim: format(policy, 'LoadBalancer', 5000)
    "{1}": "5000",
    "{retry-count}": "2",
    "{tpm}": "10000",
    "{tenant-id}": "corpus-tenant",
    "{client-application-id}": GUID,
    "{group-id}": GUID,
    "{product-token-limits}": '<when condition="@(context.Product.Id == &quot;gold&quot;)">'
                              '<azure-openai-token-limit counter-key="@(context.Subscription.Id)" '
                              'tokens-per-minute="10000" estimate-prompt-tokens="false" /></when>',
}
NAMED_VALUES: dict[str, str] = {
    "openai-lb-config": json.dumps([{"name": "llm-backend", "priority": 1, "weight": 1}]),  # names backend ids
    "entra-auth": "false", "tenant-id": "corpus-tenant", "entraid-tenant": "corpus-tenant",
    "audience": "api://corpus", "client-id": GUID, "uami-client-id": GUID, "accesskey": "AKIDEXAMPLE",
    "secretkey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}
EMBEDDINGS = "https://embeddings.openai.azure.com/openai/deployments/text-embedding-3-small/embeddings"


def fill(text: str) -> str:
    for placeholder, value in FILLS.items():
        text = text.replace(placeholder, value)
    return text


def listed_refusals() -> dict[str, str]:
    """document → reason, from docs/emulator.md's table of refused real-world documents."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Real-world policy documents the emulator refuses", 1)[1].split("\n## ", 1)[0]
    return {m.group(1): m.group(2).strip() for m in re.finditer(r"^\| `(policies/[^`]+)` \| (.+?) \|$", section, re.M)}


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(seed=3) as running:
        yield running


@pytest.fixture(scope="module")
def sdk(emulator: Emulator) -> Iterator[Any]:
    """The real SDK with everything the documents reference already published."""
    client = management_client(emulator.management_url, emulator.ca_bundle_path, token=emulator.control_token)
    backends = {name: f"https://{name}.openai.azure.com/openai" for name in _constant_backend_ids()}
    backends["llm-backend"] = "https://llm.openai.azure.com/openai"
    backends["content-safety-backend"] = "https://safety.cognitiveservices.azure.com"  # llm-content-safety's
    backends["content-safety-api"] = "https://safety.cognitiveservices.azure.com/contentsafety"  # the API's
    for name, url in backends.items():
        # Each backend authenticates with its simulated instance's key (the labs use keys or managed identity).
        key = BackendCredentialsContract(header={"api-key": [emulator.farm.api_key(name)]})
        client.backend.create_or_update(RG, SVC, name, BackendContract(url=url, protocol="http", credentials=key))
    client.backend.create_or_update(RG, SVC, "embeddings-backend", BackendContract(url=EMBEDDINGS, protocol="http"))
    for name, value in NAMED_VALUES.items():
        client.named_value.begin_create_or_update(
            RG, SVC, name, NamedValueCreateContract(display_name=name, value=value)).result()
    # Documents that set no backend forward to the API's service URL: the simulated LLM backend.
    service_url = emulator.farm.url_for("llm-backend") + "/openai"
    for api, path in ((API, API_PATH), ("contentsafety", "contentsafety")):
        client.api.begin_create_or_update(RG, SVC, api, ApiCreateOrUpdateParameter(
            path=path, display_name=api, protocols=["https"], subscription_required=api == API,
            service_url=service_url,  # the labs publish the key as api-key, like Azure OpenAI
            subscription_key_parameter_names={"header": "api-key", "query": "subscription-key"})).result()
        _create_wildcard_operations(client, api)
    # The content-filtering labs call a Content Safety API published on the same gateway.
    client.api_policy.create_or_update(RG, SVC, "contentsafety", "policy", PolicyContract(
        value='<policies><inbound><base /><set-backend-service backend-id="content-safety-api" /></inbound>'
              "<backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>",
        format="rawxml"))
    yield client
    client.close()


OPERATIONS: dict[str, bool] = {}  # "supported": whether the management plane has operation resources


def _create_operation(client: Any, api: str, name: str, method: str, template: str) -> bool:
    """Create an operation where the management plane has them; False when it has none (implicit operations)."""
    from azure.mgmt.apimanagement.models import OperationContract, ParameterContract

    parameters = [ParameterContract(name=p, type="string", required=True) for p in re.findall(r"\{([^}]+)\}", template)]
    try:
        client.api_operation.create_or_update(RG, SVC, api, name, OperationContract(
            display_name=name, method=method, url_template=template, template_parameters=parameters))
    except HttpResponseError as exc:
        if exc.status_code not in (404, 405, 501):
            raise
        return False
    return True


def _create_wildcard_operations(client: Any, api: str) -> None:
    """Operations for every method, where the management plane has them (else the gateway's implicit ones)."""
    OPERATIONS["supported"] = all(_create_operation(client, api, f"all-{m.lower()}", m, "/*") for m in ("GET", "POST"))


def _constant_backend_ids() -> set[str]:
    names = set()
    for document in DOCUMENTS:
        text = fill((CORPUS / document).read_text(encoding="utf-8-sig"))
        names |= set(re.findall(r'backend-id="([A-Za-z0-9_.-]+)"', text))
        names |= set(re.findall(r'\{\s*"backend-id",\s*"([A-Za-z0-9_.-]+)"', text))  # ids built in C# (openai-apim-lb)
    return names - {"embeddings-backend"}


def publish(client: Any, document: str) -> str | None:
    """PUT the document as the API's policy; None when accepted, else the 400 message."""
    xml = fill((CORPUS / document).read_text(encoding="utf-8-sig"))
    try:
        client.api_policy.create_or_update(RG, SVC, API, "policy", PolicyContract(value=xml, format="rawxml"))
    except HttpResponseError as exc:
        assert exc.status_code == 400, f"{document}: {exc.status_code} {exc}"
        return exc.error.message if exc.error else str(exc)
    return None


@pytest.mark.parametrize("document", DOCUMENTS)
def test_document_is_accepted_and_answers_a_chat_request(document: str, emulator: Emulator, sdk: Any) -> None:
    refused = listed_refusals()
    emulator.reset()  # each document starts from empty caches and counters (the labs share cache keys)
    message = publish(sdk, document)
    if document in refused:
        assert message is not None, f"{document} is accepted now: remove it from docs/emulator.md's refusal list"
        assert refused[document].split(":")[0].strip("` ") in message, message
        return
    assert message is None, f"{document} refused: {message}"
    key = emulator.create_subscription("corpus", key="corpus-key", api=API)
    text = (CORPUS / document).read_text(encoding="utf-8-sig")
    parameters = re.findall(r'=\s*context\.Request\.MatchedParameters\["([^"]+)"\]', text)
    if parameters:  # a mock operation's policy: it reads its URL template's parameters unguarded
        if not OPERATIONS.get("supported"):
            pytest.skip("reads context.Request.MatchedParameters: needs operations with URL templates, "
                        "which this management plane does not have yet")
        template = "/mock/" + "/".join(f"{{{p}}}" for p in dict.fromkeys(parameters))
        assert _create_operation(sdk, API, "mock", "GET", template)
        with httpx.Client(timeout=30.0) as http:
            answer = http.get(f"{emulator.gateway_url}/{API_PATH}/mock/" + "/".join("seattle" for _ in set(parameters)),
                              headers={"api-key": key})
        assert answer.status_code == 200, f"{document}: {answer.status_code} {answer.text[:300]}"
        return
    body = {"model": "gpt-4o-mini", "messages": [{"role": "system", "content": "You are terse."},
                                                 {"role": "user", "content": "What is climate change?"}]}
    with httpx.Client(timeout=30.0) as http:
        answer = http.post(emulator.gateway_url + CHAT_URL, json=body,
                           headers={"api-key": key, "x-user-id": "alice", "Content-Type": "application/json"})
    assert answer.status_code != 500, f"{document}: {answer.status_code} {answer.text[:300]}"
    STATUSES[document] = answer.status_code


def test_acceptance_rate(sdk: Any) -> None:
    refused = listed_refusals()
    assert set(refused) <= set(DOCUMENTS), "docs/emulator.md lists documents that are not in the corpus"
    accepted = [d for d in DOCUMENTS if publish(sdk, d) is None]
    print(f"\nreal-world corpus: {len(accepted)} of {len(DOCUMENTS)} accepted; chat statuses: "
          f"{dict(sorted(Counter(STATUSES.values()).items()))}")
    assert sorted(set(DOCUMENTS) - set(accepted)) == sorted(refused)
    assert len(DOCUMENTS) - len(refused) >= 0.95 * len(DOCUMENTS)
