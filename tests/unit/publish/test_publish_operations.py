"""Operations through the real SDK against the emulator's management API: imported from the specification
with the API, compared with what is read back, their policies published, reported, pruned and pulled."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from publish_helpers import desired_of, make_config
from toolkit.artifacts.layout import Kind
from toolkit.emulator.management import ManagementPlane, ResourceKind
from toolkit.publish import ApimTarget, Op, apply_plan, plan_against, pull_artifacts, render_plan
from toolkit.publish.resources import ResourceRef
from toolkit.publish.target import LOCAL_RESOURCE_GROUP as RG
from toolkit.publish.target import LOCAL_SERVICE as SVC

CONFIG = """\
apis:
  - name: chat
    path: openai
    backend: b1
    spec: {spec}
    operation_policies: {policies}
backends:
  - {{name: b1, url: "https://b1.openai.azure.com", auth: managed-identity}}
environments:
  local: {{target: local}}
"""
TAGGED = "{Embeddings_Create: operations/tag-operation.xml.j2}"
EMPTY_POLICY = ("<policies><inbound><base /></inbound><backend><base /></backend><outbound><base /></outbound>"
                "<on-error><base /></on-error></policies>")


def _apply(target: ApimTarget, desired: Any, *, prune: bool = False) -> Any:
    plan = plan_against(target, desired, env="local", prune=prune)
    apply_plan(target.client, plan, desired.resources)
    return plan


def _operations(plane: ManagementPlane) -> dict[str, tuple[str, str]]:
    return {r.key.name: (r.properties["method"], r.properties["urlTemplate"])
            for r in plane.store.list(ResourceKind.OPERATION, parent="chat")}


def test_operations_and_an_operation_policy_publish_and_converge(target: ApimTarget, plane: ManagementPlane,
                                                                 tmp_path: Path) -> None:
    desired = desired_of(make_config(tmp_path, CONFIG.format(spec="azure-openai-inference", policies=TAGGED)))
    plan = _apply(target, desired)
    assert [c.ref.kind for c in plan.actions] == [Kind.BACKEND, Kind.API, Kind.API_POLICY, Kind.OPERATION_POLICY]
    operations = _operations(plane)
    assert len(operations) == 7
    # api-version stays a query parameter (Azure OpenAI, not APIM, answers a request without it)
    assert operations["ChatCompletions_Create"] == ("POST", "/openai/deployments/{deployment-id}/chat/completions")
    policy = plane.store.get(_policy_key("Embeddings_Create")).properties["value"]
    assert "<value>Embeddings_Create</value>" in policy
    again = plan_against(target, desired, env="local")
    assert not again.has_changes, render_plan(again)


def test_an_operation_changed_behind_the_tools_back_is_planned_back(target: ApimTarget, sdk: Any,
                                                                     plane: ManagementPlane, tmp_path: Path) -> None:
    desired = desired_of(make_config(tmp_path, CONFIG.format(spec="azure-openai-inference", policies="{}")))
    _apply(target, desired)
    sdk.api_operation.delete(RG, SVC, "chat", "Speech_Create", if_match="*")
    plan = plan_against(target, desired, env="local")
    change = plan.find(ResourceRef(Kind.API, "chat"))
    assert change.op is Op.UPDATE
    assert [f.path for f in change.fields] == ["properties.operations[Speech_Create].method",
                                              "properties.operations[Speech_Create].urlTemplate"]
    apply_plan(target.client, plan, desired.resources)
    assert "Speech_Create" in _operations(plane)


def test_switching_the_spec_replaces_the_operations(target: ApimTarget, plane: ManagementPlane, tmp_path: Path) -> None:
    _apply(target, desired_of(make_config(tmp_path / "v1", CONFIG.format(spec="azure-openai-inference", policies="{}"))))
    wildcard = desired_of(make_config(tmp_path / "v2", CONFIG.format(spec="wildcard", policies="{}")))
    plan = _apply(target, wildcard)
    fields = {f.path for f in plan.find(ResourceRef(Kind.API, "chat")).fields}
    assert "properties.operations[wildcard-get].method" in fields
    assert "properties.operations[ChatCompletions_Create].method" in fields
    assert _operations(plane) == {f"wildcard-{m.lower()}": (m, "/*") for m in ("GET", "POST", "PUT", "DELETE")}


def test_an_operation_policy_added_by_hand_is_reported_pruned_and_pulled(target: ApimTarget, sdk: Any,
                                                                         plane: ManagementPlane, tmp_path: Path) -> None:
    desired = desired_of(make_config(tmp_path, CONFIG.format(spec="azure-openai-inference", policies="{}")))
    _apply(target, desired)
    body = io.BytesIO(f'{{"properties": {{"value": "{EMPTY_POLICY}", "format": "rawxml"}}}}'.encode())
    sdk.api_operation_policy.create_or_update(RG, SVC, "chat", "ChatCompletions_Create", "policy", body)
    ref = ResourceRef(Kind.OPERATION_POLICY, "ChatCompletions_Create", "chat")

    assert plan_against(target, desired, env="local").kept == [ref]
    assert "apis/chat/operations/ChatCompletions_Create/policy.xml" in pull_artifacts(target.client).paths()
    pruning = plan_against(target, desired, env="local", prune=True)
    assert [(c.op, c.ref) for c in pruning.actions] == [(Op.DELETE, ref)]
    apply_plan(target.client, pruning, desired.resources)
    assert plane.store.get(_policy_key("ChatCompletions_Create")) is None


def test_an_operation_policy_for_an_unknown_operation_is_refused_at_render(tmp_path: Path) -> None:
    import pytest

    from toolkit.errors import ConfigError

    config = make_config(tmp_path, CONFIG.format(spec="wildcard", policies=TAGGED))
    with pytest.raises(ConfigError, match=r"apis\[0\]\.operation_policies\.Embeddings_Create: the API's specification "
                                          r"has no operation 'Embeddings_Create'"):
        desired_of(config)


def _policy_key(operation: str) -> Any:
    from toolkit.emulator.management import ResourceKey

    return ResourceKey(ResourceKind.OPERATION_POLICY, operation, "chat")


def test_a_revision_change_is_refused_rather_than_sent(target: ApimTarget, tmp_path: Path) -> None:
    import pytest

    from toolkit.errors import InputError

    config = CONFIG.format(spec="wildcard", policies="{}")
    _apply(target, desired_of(make_config(tmp_path / "v1", config)))
    bumped = desired_of(make_config(tmp_path / "v2", config.replace("    spec: wildcard", "    spec: wildcard\n    revision: 2")))
    with pytest.raises(InputError, match=r"API 'chat' is at revision 1 on the target and the artifacts say 2"):
        plan_against(target, bumped, env="local")
