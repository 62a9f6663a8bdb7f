"""A saved plan (`toolkit plan --out`, `toolkit apply --plan`) is refused (exit 4, nothing written) when anything it
covers changed since it was made: a resource it lists as unchanged, which resources exist, or a secret's value."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from publish_helpers import SECRET_V1, SECRET_V2, SMALL_CONFIG, desired_of, make_config, remote_state
from toolkit.cli import root
from toolkit.emulator.management import ManagementPlane, TlsMaterial
from toolkit.errors import StalePlanError
from toolkit.publish import ApimTarget, Op, Plan, apply_plan, check_saved_plan, plan_against
from toolkit.publish.plan_file import plan_from_document
from toolkit.publish.target import LOCAL_RESOURCE_GROUP as RG
from toolkit.publish.target import LOCAL_SERVICE as SVC
from toolkit.testing.emulator_servers import management_client

ELSEWHERE = "https://elsewhere.example.com/openai"


def _raw(body: dict[str, Any]) -> io.BytesIO:
    return io.BytesIO(json.dumps(body).encode())


def _saved(plan: Plan) -> Plan:
    """The plan as `apply --plan` reads it back from its file."""
    return plan_from_document(json.loads(json.dumps(plan.to_json())), "plan.json")


def _refused(target: ApimTarget, plane: ManagementPlane, plan: Plan, desired: Any) -> str:
    before = remote_state(plane)
    plane.counters.reset()
    with pytest.raises(StalePlanError) as caught:
        check_saved_plan(plan, desired, target)
    assert caught.value.exit_code == 4 and plane.counters.writes == 0 and remote_state(plane) == before
    assert "\n" not in caught.value.message
    return caught.value.message


@pytest.fixture
def applied(target: ApimTarget, tmp_path: Path) -> Any:
    """SMALL_CONFIG applied; its desired state."""
    desired = desired_of(make_config(tmp_path / "v1", SMALL_CONFIG))
    apply_plan(target.client, plan_against(target, desired, env="local"), desired.resources)
    return desired


def test_an_unchanged_resource_changed_since_the_plan_refuses_it(target: ApimTarget, plane: ManagementPlane,
                                                                  sdk: Any, applied: Any) -> None:
    plan = _saved(plan_against(target, applied, env="local"))
    assert plan.find(_ref(plan, "b3")).op is Op.UNCHANGED  # type: ignore[union-attr]
    check_saved_plan(plan, applied, target)  # nothing changed: accepted
    sdk.backend.create_or_update(RG, SVC, "b3", _raw({"properties": {"url": ELSEWHERE, "protocol": "http"}}))
    message = _refused(target, plane, plan, applied)
    assert message.startswith("the target changed since the plan was made; nothing was written: ")
    assert "backend 'b3' was changed on the target since the plan (ETag" in message


def test_an_unchanged_resource_deleted_since_the_plan_refuses_it(target: ApimTarget, plane: ManagementPlane,
                                                                 sdk: Any, applied: Any) -> None:
    plan = _saved(plan_against(target, applied, env="local"))
    sdk.named_value.delete(RG, SVC, "greeting", if_match="*")
    assert "named-value 'greeting' was deleted on the target since the plan" in _refused(target, plane, plan, applied)


def test_a_resource_created_since_the_plan_refuses_a_whole_gateway_plan(target: ApimTarget, plane: ManagementPlane,
                                                                        sdk: Any, applied: Any) -> None:
    plan = _saved(plan_against(target, applied, env="local"))
    sdk.backend.create_or_update(RG, SVC, "b9", _raw({"properties": {"url": ELSEWHERE, "protocol": "http"}}))
    assert "backend 'b9' was created on the target since the plan" in _refused(target, plane, plan, applied)


def test_a_kept_resource_deleted_since_the_plan_refuses_it(target: ApimTarget, plane: ManagementPlane, sdk: Any,
                                                           applied: Any) -> None:
    sdk.backend.create_or_update(RG, SVC, "b9", _raw({"properties": {"url": ELSEWHERE, "protocol": "http"}}))
    plan = _saved(plan_against(target, applied, env="local"))
    assert [ref.name for ref in plan.kept] == ["b9"]
    sdk.backend.delete(RG, SVC, "b9", if_match="*")
    assert "backend 'b9' was deleted on the target since the plan" in _refused(target, plane, plan, applied)


def test_a_resource_created_since_a_pruning_plan_refuses_it(target: ApimTarget, plane: ManagementPlane, sdk: Any,
                                                            applied: Any) -> None:
    plan = _saved(plan_against(target, applied, env="local", prune=True))
    sdk.backend.create_or_update(RG, SVC, "b9", _raw({"properties": {"url": ELSEWHERE, "protocol": "http"}}))
    assert "backend 'b9' was created on the target since the plan" in _refused(target, plane, plan, applied)


def test_a_secret_value_changed_since_the_plan_refuses_it(target: ApimTarget, plane: ManagementPlane,
                                                          tmp_path: Path, applied: Any) -> None:
    plan = _saved(plan_against(target, applied, env="local"))
    document = json.dumps(plan.to_json())
    assert SECRET_V1 not in document and set(plan.secret_digests) == {"api-secret"} and plan.secret_salt
    rotated = desired_of(make_config(tmp_path / "v1", SMALL_CONFIG, SECRET_V2))
    message = _refused(target, plane, plan, rotated)
    assert message == ("the value of secret named value(s) 'api-secret' changed since the plan was made; "
                       "nothing was written")
    assert SECRET_V1 not in message and SECRET_V2 not in message
    check_saved_plan(plan, applied, target)  # the value it was made with: accepted


def test_the_secret_digest_is_salted(target: ApimTarget, applied: Any) -> None:
    one, two = (plan_against(target, applied, env="local") for _ in range(2))
    assert one.secret_salt != two.secret_salt
    assert one.secret_digests["api-secret"] != two.secret_digests["api-secret"]


def test_a_format_1_plan_is_read_but_refused_when_it_cannot_vouch_for_secrets(target: ApimTarget,
                                                                            plane: ManagementPlane,
                                                                            tmp_path: Path, applied: Any) -> None:
    document = plan_against(target, applied, env="local").to_json()
    document["format"] = 1
    del document["secret_values"]
    old = plan_from_document(document, "old.json")
    assert "format 1" in _refused(target, plane, old, applied)
    config = SMALL_CONFIG.replace('  - {name: api-secret, value: "${SECRET_VALUE}", secret: true}\n', "")
    plain = desired_of(make_config(tmp_path / "plain", config))
    document = plan_against(target, plain, env="local").to_json()
    document["format"] = 1
    del document["secret_values"]
    check_saved_plan(plan_from_document(document, "old.json"), plain, target)  # no secret value: accepted


# -- the CLI: `toolkit plan --out` then `toolkit apply --plan` ------------------------------------------------

SECRET_CONFIG = """\
backends:
  - {name: b1, url: "https://b1.example.com/openai"}
  - {name: b2, url: "https://b2.example.com/openai"}
named_values:
  - {name: api-secret, value: "${API_SECRET}", secret: true}
environments:
  local: {target: local}
"""


@pytest.fixture
def env(management_url: str, tls: TlsMaterial, plane: ManagementPlane) -> dict[str, str]:
    return {"TOOLKIT_MANAGEMENT_URL": management_url, "TOOLKIT_CA_BUNDLE": str(tls.ca_bundle_path),
            "TOOLKIT_EMULATOR_TOKEN": plane.token}


@pytest.fixture
def other(management_url: str, tls: TlsMaterial, plane: ManagementPlane) -> Iterator[Any]:
    client = management_client(management_url, tls.ca_bundle_path, token=plane.token)
    yield client
    client.close()


def _run(env: dict[str, str], *args: str, config: Path, secret: str = "cli-s3cret-ONE-1") -> Result:
    return CliRunner(env={**env, "API_SECRET": secret}).invoke(root, [*args, "--config", str(config)])


def test_cli_refuses_a_saved_plan_when_an_unchanged_backend_changed(env: dict[str, str], plane: ManagementPlane,
                                                                     other: Any, repo_root: Path,
                                                                     tmp_path: Path) -> None:
    config = repo_root / "toolkit.yaml"
    assert _run(env, "apply", "--yes", config=config).exit_code == 0
    body = json.loads((repo_root / "apimartifacts/backends/openai-eastus/backendInformation.json").read_text())
    body["properties"]["url"] = ELSEWHERE
    other.backend.create_or_update(RG, SVC, "openai-eastus", _raw(body))
    plan_file = tmp_path / "plan.json"
    planned = _run(env, "plan", "--out", str(plan_file), config=config)
    assert "~ update    backend 'openai-eastus'" in planned.stdout and "Plan: 0 to create, 1 to update" in planned.stdout
    westus = json.loads((repo_root / "apimartifacts/backends/openai-westus/backendInformation.json").read_text())
    westus["properties"]["url"] = ELSEWHERE  # another apply changes a backend the plan lists as unchanged
    other.backend.create_or_update(RG, SVC, "openai-westus", _raw(westus))
    plane.counters.reset()
    stale = _run(env, "apply", "--plan", str(plan_file), "--yes", config=config)
    assert stale.exit_code == 4, stale.output
    assert "backend 'openai-westus' was changed on the target since the plan" in stale.stderr
    assert plane.counters.writes == 0


def test_cli_refuses_a_saved_plan_when_a_secret_value_changed(env: dict[str, str], plane: ManagementPlane,
                                                               tmp_path: Path, repo_root: Path) -> None:
    shutil.copytree(repo_root / "policies", tmp_path / "policies")
    config = tmp_path / "toolkit.yaml"
    config.write_text(SECRET_CONFIG, encoding="utf-8")
    plan_file = tmp_path / "plan.json"
    assert _run(env, "plan", "--out", str(plan_file), config=config, secret="cli-s3cret-BBB-2").exit_code == 0
    plane.counters.reset()
    refused = _run(env, "apply", "--plan", str(plan_file), "--yes", config=config, secret="cli-s3cret-CCC-3")
    assert refused.exit_code == 4, refused.output
    assert "'api-secret' changed since the plan" in refused.stderr and plane.counters.writes == 0
    text = refused.output + plan_file.read_text()
    assert "cli-s3cret-BBB-2" not in text and "cli-s3cret-CCC-3" not in text
    accepted = _run(env, "apply", "--plan", str(plan_file), "--yes", config=config, secret="cli-s3cret-BBB-2")
    assert accepted.exit_code == 0, accepted.output
    assert remote_state(plane)[("named-value", "api-secret", "")]["value"] == "cli-s3cret-BBB-2"


def _ref(plan: Plan, name: str) -> Any:
    return next(c.ref for c in plan.changes if c.ref.name == name)
