"""What `plan`/`apply --artifacts` accept that offline lint reports: pool members created outside the tree
(when the target has them) and findings the project suppressed with a reason. Real SDK, TLS, loopback."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from toolkit.cli import root
from toolkit.emulator.management import ManagementPlane, TlsMaterial
from toolkit.testing.emulator_servers import management_client, serve_app_in_thread

CONFIG = "environments:\n  local: {target: local}\n"
SINGLE = {"properties": {"url": "https://made-by-bicep.example.com/openai", "protocol": "http"}}
POOL = {"properties": {"type": "Pool", "pool": {"services": [
    {"id": "/subscriptions/1/resourceGroups/rg/providers/Microsoft.ApiManagement/service/prod/backends/in-tree"},
    {"id": "/subscriptions/1/resourceGroups/rg/providers/Microsoft.ApiManagement/service/prod/backends/by-bicep"},
]}}}
KEY_LITERAL = ('<policies><inbound><base />\n'
               '<set-header name="api-key" exists-action="override"><value>0123456789abcdef0123456789abcdef</value>'
               '</set-header>\n</inbound><backend><base /></backend><outbound><base /></outbound>'
               '<on-error><base /></on-error></policies>\n')


@pytest.fixture
def env(plane: ManagementPlane, tls: TlsMaterial) -> Iterator[dict[str, str]]:
    with serve_app_in_thread(plane.app, ssl=tls) as url:
        yield {"TOOLKIT_MANAGEMENT_URL": url, "TOOLKIT_CA_BUNDLE": str(tls.ca_bundle_path),
               "TOOLKIT_EMULATOR_TOKEN": plane.token}


def write_tree(root_dir: Path, files: dict[str, object]) -> Path:
    for relpath, content in files.items():
        path = root_dir / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return root_dir


def pool_tree(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "tree", {"backends/in-tree/backendInformation.json": SINGLE,
                                          "backends/pool/backendInformation.json": POOL})


def create_backend(env: dict[str, str], tls: TlsMaterial, name: str, body: dict[str, object]) -> None:
    """As the user's Bicep would: straight through the SDK, outside toolkit."""
    sdk = management_client(env["TOOLKIT_MANAGEMENT_URL"], tls.ca_bundle_path, token=env["TOOLKIT_EMULATOR_TOKEN"])
    try:
        sdk.backend.create_or_update("toolkit-local", "toolkit-local", name, io.BytesIO(json.dumps(body).encode()))
    finally:
        sdk.close()


def run(env: dict[str, str], tmp_path: Path, *args: str, config: str = CONFIG) -> Result:
    path = tmp_path / "toolkit.yaml"
    path.write_text(config, encoding="utf-8")
    return CliRunner(env=env).invoke(root, [*args, "--config", str(path)])


def test_offline_lint_reports_the_member_and_says_apply_may_accept_it(tmp_path: Path) -> None:
    result = run({}, tmp_path, "lint", str(pool_tree(tmp_path)))
    assert result.exit_code == 1
    assert "APIM003 error: pool 'pool' member 2 ('by-bicep')" in result.stdout
    assert "not in backends/ of this tree (apply accepts it if the target has it)" in result.stdout


def test_apply_accepts_a_pool_member_the_target_already_has(env: dict[str, str], tls: TlsMaterial,
                                                            plane: ManagementPlane, tmp_path: Path) -> None:
    create_backend(env, tls, "by-bicep", SINGLE)
    tree = pool_tree(tmp_path)
    planned = run(env, tmp_path, "plan", "--artifacts", str(tree))
    assert planned.exit_code == 0, planned.output
    applied = run(env, tmp_path, "apply", "--artifacts", str(tree), "--yes")
    assert applied.exit_code == 0, applied.output
    assert "accepted: " in applied.stderr and "backendInformation.json:" in applied.stderr
    assert "APIM003: backend 'by-bicep' is not in the tree but exists on local emulator" in applied.stderr
    names = {resource.key.name for resource in plane.store.all()}
    assert {"pool", "in-tree", "by-bicep"} <= names
    again = run(env, tmp_path, "plan", "--artifacts", str(tree), "--detailed-exitcode")
    assert again.exit_code == 0 and "No changes" in again.stdout, again.output


def test_apply_refuses_a_member_that_is_neither_in_the_tree_nor_on_the_target(
        env: dict[str, str], plane: ManagementPlane, tmp_path: Path) -> None:
    before = plane.store.all()
    for verb in (("plan",), ("apply", "--yes")):
        result = run(env, tmp_path, *verb, "--artifacts", str(pool_tree(tmp_path)))
        assert result.exit_code == 1, result.output
        assert "APIM003 error: pool 'pool' member 2 ('by-bicep')" in result.stdout
        assert "backend 'by-bicep' is not on the target either: create it there first" in result.stdout
        assert "nothing was written" in result.stderr
    assert plane.store.all() == before and plane.counters.writes == 0


def test_apply_refuses_a_member_that_is_a_pool_on_the_target(env: dict[str, str], tls: TlsMaterial,
                                                             plane: ManagementPlane, tmp_path: Path) -> None:
    create_backend(env, tls, "single", SINGLE)
    create_backend(env, tls, "by-bicep", {"properties": {"type": "Pool", "pool": {"services": [
        {"id": "/backends/single"}]}}})
    plane.counters.reset()
    result = run(env, tmp_path, "apply", "--yes", "--artifacts", str(pool_tree(tmp_path)))
    assert result.exit_code == 1, result.output
    assert "backend 'by-bicep' is a pool on the target, and a pool can only contain single backends" in result.stdout
    assert plane.counters.writes == 0


def test_a_lint_error_blocks_apply_until_the_project_suppresses_it_with_a_reason(
        env: dict[str, str], plane: ManagementPlane, tmp_path: Path) -> None:
    tree = write_tree(tmp_path / "tree", {
        "apis/a/apiInformation.json": {"properties": {"path": "a", "displayName": "a", "protocols": ["https"]}},
        "apis/a/policy.xml": KEY_LITERAL})
    refused = run(env, tmp_path, "apply", "--yes", "--artifacts", str(tree))
    assert refused.exit_code == 1 and "APIM043 error" in refused.stdout and plane.counters.writes == 0
    accepting = CONFIG + 'lint:\n  ignore:\n    - {rule: APIM043, path: "apis/a/policy.xml", reason: "a test key"}\n'
    applied = run(env, tmp_path, "apply", "--yes", "--artifacts", str(tree), config=accepting)
    assert applied.exit_code == 0, applied.output
    assert "lint: " in applied.stderr and "APIM043 error suppressed (" in applied.stderr
    assert "toolkit.yaml:5: a test key)" in applied.stderr
    assert plane.counters.writes > 0


def test_a_bad_suppression_comment_in_the_tree_is_exit_3_before_the_target_is_read(
        env: dict[str, str], plane: ManagementPlane, tmp_path: Path) -> None:
    tree = write_tree(tmp_path / "tree", {"apis/a/apiInformation.json": {"properties": {"path": "a"}},
                                          "apis/a/policy.xml": "<!-- toolkit: ignore APIM043 -->\n" + KEY_LITERAL})
    result = run(env, tmp_path, "apply", "--yes", "--artifacts", str(tree))
    assert result.exit_code == 3, result.output
    assert "apis/a/policy.xml:1: the suppression of APIM043 gives no reason" in result.output
    assert plane.counters.snapshot()["total"] == 0
