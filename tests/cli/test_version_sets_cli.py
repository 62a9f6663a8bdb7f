"""API version sets through plan / apply / pull --artifacts (real SDK, TLS, loopback): written before the APIs
that belong to them, pointed at the target's set whatever instance the tree came from, zero changes after
pull, deleted after their APIs with --prune, and a set on neither side refused (exit 3) before any write.
Also: a policy's backend-id that names a backend (even a pool) created outside the tree is accepted."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from test_lint_acceptance_cli import write_tree

from toolkit.cli import root
from toolkit.emulator.management import ManagementPlane, ResourceKey, ResourceKind
from toolkit.testing.emulator_servers import management_client

CONFIG = "environments:\n  local: {target: local}\n"
FOREIGN_SET = ("/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-dev/providers/Microsoft.ApiManagement/service/"
               "apim-dev/apiVersionSets/pets")
SET = {"properties": {"displayName": "Pets", "versioningScheme": "Header", "versionHeaderName": "Api-Version"}}


def _api(version: str | None, version_set: str = FOREIGN_SET) -> dict[str, Any]:
    properties = {"displayName": "Pets", "path": "pets", "apiVersionSetId": version_set, "protocols": ["https"]}
    return {"properties": {**properties, **({"apiVersion": version} if version else {})}}


def _run(env: dict[str, str], tmp_path: Path, *args: str) -> Result:
    config = tmp_path / "toolkit.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    return CliRunner(env=env).invoke(root, [*args, "--env", "local", "--config", str(config)])


def _sdk(env: dict[str, str]) -> Any:
    return management_client(env["TOOLKIT_MANAGEMENT_URL"], env["TOOLKIT_CA_BUNDLE"], token=env["TOOLKIT_EMULATOR_TOKEN"])


PETS = {"version sets/pets/versionSetInformation.json": SET, "apis/pets/apiInformation.json": _api(None),
        "apis/pets-v2/apiInformation.json": _api("v2")}


def test_apply_plan_pull_plan_and_prune(served_env: dict[str, str], plane: ManagementPlane, tmp_path: Path) -> None:
    tree = write_tree(tmp_path / "tree", PETS)
    applied = _run(served_env, tmp_path, "apply", "--artifacts", str(tree), "--yes")
    assert applied.exit_code == 0, applied.output
    done = re.findall(r"done: create\s+(\S+ '[^']+')", applied.output)
    assert done.index("version-set 'pets'") < min(done.index("api 'pets'"), done.index("api 'pets-v2'"))
    stored = plane.store.get(ResourceKey(ResourceKind.API, "pets-v2"))
    assert stored is not None and stored.properties["apiVersionSetId"] == (  # the target's set, not apim-dev's
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/toolkit-local/providers/"
        "Microsoft.ApiManagement/service/toolkit-local/apiVersionSets/pets")

    again = _run(served_env, tmp_path, "plan", "--artifacts", str(tree), "--detailed-exitcode")
    assert again.exit_code == 0 and "No changes" in again.output, again.output
    pulled = tmp_path / "pulled"
    assert _run(served_env, tmp_path, "pull", "--out", str(pulled)).exit_code == 0
    assert json.loads((pulled / "version sets/pets/versionSetInformation.json").read_text()) == SET
    assert "/service/toolkit-local/apiVersionSets/pets" in (pulled / "apis/pets-v2/apiInformation.json").read_text()
    round_trip = _run(served_env, tmp_path, "plan", "--artifacts", str(pulled), "--detailed-exitcode")
    assert round_trip.exit_code == 0 and "No changes" in round_trip.output, round_trip.output

    for gone in ("version sets/pets", "apis/pets", "apis/pets-v2"):
        shutil.rmtree(pulled / gone)
    pruned = _run(served_env, tmp_path, "apply", "--artifacts", str(pulled), "--prune", "--yes")
    assert pruned.exit_code == 0, pruned.output
    deleted = re.findall(r"done: delete\s+(\S+ '[^']+')", pruned.output)
    assert deleted[-1] == "version-set 'pets'" and len(deleted) == 3  # after the APIs that belong to it
    assert plane.store.list(ResourceKind.VERSION_SET) == []


def test_a_changed_scheme_is_an_update_of_the_set_only(served_env: dict[str, str], tmp_path: Path) -> None:
    tree = write_tree(tmp_path / "tree", PETS)
    assert _run(served_env, tmp_path, "apply", "--artifacts", str(tree), "--yes").exit_code == 0
    write_tree(tree, {"version sets/pets/versionSetInformation.json": {"properties": {
        "displayName": "Pets", "versioningScheme": "Query", "versionQueryName": "v"}}})
    planned = _run(served_env, tmp_path, "plan", "--artifacts", str(tree), "--detailed-exitcode")
    assert planned.exit_code == 1 and "Plan: 0 to create, 1 to update" in planned.output, planned.output
    assert "~ update    version-set 'pets'" in planned.output


def test_a_set_on_neither_side_is_refused_before_anything_is_written(served_env: dict[str, str],
                                                                     plane: ManagementPlane, tmp_path: Path) -> None:
    tree = write_tree(tmp_path / "tree", {"apis/pets-v2/apiInformation.json": _api("v2")})
    applied = _run(served_env, tmp_path, "apply", "--artifacts", str(tree), "--yes")
    assert applied.exit_code == 3, applied.output
    assert ("apis/pets-v2/apiInformation.json: properties.apiVersionSetId names version set 'pets', which is "
            "neither in the tree") in applied.output
    assert plane.store.all() == []


def test_a_set_the_target_has_is_enough(served_env: dict[str, str], tmp_path: Path) -> None:
    sdk = _sdk(served_env)
    try:
        sdk.api_version_set.create_or_update("toolkit-local", "toolkit-local", "pets",
                                             io.BytesIO(json.dumps(SET).encode()))
    finally:
        sdk.close()
    tree = write_tree(tmp_path / "tree", {"apis/pets-v2/apiInformation.json": _api("v2", "/apiVersionSets/pets")})
    applied = _run(served_env, tmp_path, "apply", "--artifacts", str(tree), "--yes")
    assert applied.exit_code == 0, applied.output


def test_the_older_extractors_file_name_is_read_and_both_at_once_refused(served_env: dict[str, str],
                                                                          tmp_path: Path) -> None:
    tree = write_tree(tmp_path / "tree", {"version sets/pets/apiVersionSetInformation.json": SET,
                                     "apis/pets-v2/apiInformation.json": _api("v2")})
    assert _run(served_env, tmp_path, "apply", "--artifacts", str(tree), "--yes").exit_code == 0
    write_tree(tree, {"version sets/pets/versionSetInformation.json": SET})
    both = _run(served_env, tmp_path, "plan", "--artifacts", str(tree))
    assert both.exit_code == 3 and "describes the same version set; keep one" in both.output, both.output


def test_a_backend_id_naming_a_pool_made_outside_the_tree_is_accepted(served_env: dict[str, str],
                                                                      tmp_path: Path) -> None:
    sdk = _sdk(served_env)
    try:
        for name, body in (("member", {"properties": {"url": "https://m.example.com", "protocol": "http"}}),
                           ("bicep-pool", {"properties": {"type": "Pool", "pool": {"services": [
                               {"id": "/backends/member"}]}}})):
            sdk.backend.create_or_update("toolkit-local", "toolkit-local", name, io.BytesIO(json.dumps(body).encode()))
    finally:
        sdk.close()
    policy = ('<policies><inbound><base /><set-backend-service backend-id="bicep-pool" /></inbound>'
              '<backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>\n')
    tree = write_tree(tmp_path / "tree", {"backends/other/backendInformation.json": {
        "properties": {"url": "https://o.example.com", "protocol": "http"}}, "policy.xml": policy})
    offline = CliRunner().invoke(root, ["lint", str(tree)])
    assert offline.exit_code == 1 and "APIM025 error" in offline.output
    applied = _run(served_env, tmp_path, "apply", "--artifacts", str(tree), "--yes")
    assert applied.exit_code == 0, applied.output
    assert "APIM025: backend 'bicep-pool' is not in the tree but exists" in applied.output


def test_a_failed_api_rolls_back_the_set_written_for_it(served_env: dict[str, str], plane: ManagementPlane,
                                                         tmp_path: Path) -> None:
    broken = _api("v2")
    broken["properties"]["protocols"] = ["ftp"]
    tree = write_tree(tmp_path / "tree", {"version sets/pets/versionSetInformation.json": SET,
                                          "apis/pets-v2/apiInformation.json": broken})
    applied = _run(served_env, tmp_path, "apply", "--artifacts", str(tree), "--yes")
    assert applied.exit_code == 4, applied.output
    assert "deleted version-set 'pets' (created by this apply)" in applied.output
    assert plane.store.all() == []
