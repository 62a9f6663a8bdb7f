"""A policy the target refuses: `toolkit apply` names the artifact file and line, not only the resource."""

from __future__ import annotations

from pathlib import Path

import pytest

from publish_helpers import SMALL_CONFIG, desired_of, make_config
from toolkit.artifacts.layout import ArtifactPath, Kind
from toolkit.emulator.management import ManagementPlane
from toolkit.emulator.policy import policy_validator
from toolkit.publish import ApimTarget, ApplyFailed, apply_plan, plan_against
from toolkit.publish.apply import with_artifact_file


@pytest.fixture
def plane() -> ManagementPlane:
    """A plane that validates policies with the emulator's policy engine."""
    holder: dict[str, ManagementPlane] = {}
    plane = ManagementPlane(policy_validator=policy_validator(
        named_values=lambda: {nv.key.name: str(nv.properties.get("value", "")) for nv in
                              holder["plane"].store.all() if nv.key.kind.value == "named_value"},
    ))
    holder["plane"] = plane
    return plane


def test_apply_names_the_policy_file_and_line_of_what_the_emulator_cannot_run(target: ApimTarget,
                                                                             tmp_path: Path) -> None:
    desired = desired_of(make_config(tmp_path, SMALL_CONFIG))
    ref = ArtifactPath(Kind.API_POLICY, "chat")
    xml = desired.resources[ref]["properties"]["value"]
    lines = xml.splitlines()
    inbound = next(i for i, line in enumerate(lines) if "<inbound>" in line)
    lines.insert(inbound + 1, '<publish-to-dapr topic="t">x</publish-to-dapr>')
    desired.resources[ref]["properties"]["value"] = "\n".join(lines)
    plan = plan_against(target, desired, env="local")
    with pytest.raises(ApplyFailed) as caught:
        apply_plan(target.client, plan, desired.resources)
    expected = f"apis/chat/policy.xml:{inbound + 2}: the local emulator does not support <publish-to-dapr> (APIM does)"
    assert expected in caught.value.message


@pytest.mark.parametrize(("ref", "message", "expected"), [
    (ArtifactPath(Kind.API_POLICY, "chat"), "HTTP 400: line 3: bad", "HTTP 400: apis/chat/policy.xml:3: bad"),
    (ArtifactPath(Kind.FRAGMENT, "f"), "line 2: bad", "policy fragments/f/policy.xml:2: bad"),
    (ArtifactPath(Kind.BACKEND, "b"), "HTTP 400: bad url", "HTTP 400: bad url (backends/b/backendInformation.json)"),
])
def test_with_artifact_file(ref: ArtifactPath, message: str, expected: str) -> None:
    assert with_artifact_file(ref, message) == expected
