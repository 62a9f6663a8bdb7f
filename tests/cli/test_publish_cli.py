"""`toolkit plan`, `apply` and `pull` end to end against the emulator's management API (real SDK, TLS, loopback)."""

from __future__ import annotations

import io
import json
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from toolkit.cli import root
from toolkit.emulator.management import ManagementPlane, TlsMaterial
from toolkit.testing.emulator_servers import management_client, serve_app_in_thread

SECRET = "cli-s3cret-VALUE-9137"
SECRET_CONFIG = """\
backends:
  - {name: b1, url: "https://b1.example.com/openai"}
named_values:
  - {name: api-secret, value: "${API_SECRET}", secret: true}
  - {name: plain, value: "${PLAIN_VALUE}"}
environments:
  local: {target: local}
  dev:
    target: azure
    subscription_id: 00000000-0000-0000-0000-00000000000d
    resource_group: rg-dev
    service: apim-dev
"""


@pytest.fixture
def env(plane: ManagementPlane, tls: TlsMaterial) -> Iterator[dict[str, str]]:
    """Environment variables that point the CLI at a served plane."""
    with serve_app_in_thread(plane.app, ssl=tls) as url:
        yield {"TOOLKIT_MANAGEMENT_URL": url, "TOOLKIT_CA_BUNDLE": str(tls.ca_bundle_path),
               "TOOLKIT_EMULATOR_TOKEN": plane.token}


@pytest.fixture
def project(tmp_path: Path, repo_root: Path) -> Path:
    """A project folder with SECRET_CONFIG and the repository's templates."""
    shutil.copytree(repo_root / "policies", tmp_path / "policies")
    (tmp_path / "toolkit.yaml").write_text(SECRET_CONFIG, encoding="utf-8")
    return tmp_path / "toolkit.yaml"


def run(env: dict[str, str], *args: str, config: Path | None = None, **kw: Any) -> Result:
    if config is not None:
        args = (*args, "--config", str(config))
    extra = {"API_SECRET": SECRET, "PLAIN_VALUE": "plain-1", **kw.pop("extra_env", {})}
    return CliRunner(env={**env, **extra}).invoke(root, list(args), **kw)


def test_plan_apply_converge(env: dict[str, str], plane: ManagementPlane, repo_root: Path) -> None:
    config = repo_root / "toolkit.yaml"
    fresh = run(env, "plan", "--detailed-exitcode", config=config)
    assert fresh.exit_code == 1, fresh.output
    assert fresh.stdout.count("+ create") == 11 and "Plan: 11 to create" in fresh.stdout
    assert run(env, "plan", config=config).exit_code == 0  # without the flag, changes are not an error

    applied = run(env, "apply", "--yes", config=config)
    assert applied.exit_code == 0, applied.output
    assert "Applied 11 change(s)" in applied.stderr and plane.counters.writes == 11

    converged = run(env, "plan", "--detailed-exitcode", "--format", "json", config=config)
    assert converged.exit_code == 0, converged.output
    assert json.loads(converged.stdout)["summary"] == {"create": 0, "update": 0, "delete": 0, "unchanged": 11}
    plane.counters.reset()
    again = run(env, "apply", "--yes", config=config)
    assert again.exit_code == 0 and "Nothing to apply." in again.stderr and plane.counters.writes == 0


def test_feature_selection_plans_only_what_the_feature_owns(env: dict[str, str], repo_root: Path) -> None:
    result = run(env, "plan", "circuit-breaker", "--format", "json", config=repo_root / "toolkit.yaml")
    names = {c["name"] for c in json.loads(result.stdout)["changes"]}
    assert names == {"openai-eastus", "openai-northcentralus", "openai-westus"}


def test_apply_needs_a_terminal_or_yes(env: dict[str, str], plane: ManagementPlane, repo_root: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    config = repo_root / "toolkit.yaml"
    refused = run(env, "apply", config=config)
    assert refused.exit_code == 2 and "pass --yes" in refused.output and plane.counters.writes == 0

    import toolkit.cli.apply

    monkeypatch.setattr(toolkit.cli.apply, "_interactive", lambda: True)
    declined = run(env, "apply", config=config, input="n\n")
    assert declined.exit_code == 1 and "nothing was written" in declined.stderr and plane.counters.writes == 0
    accepted = run(env, "apply", config=config, input="y\n")
    assert accepted.exit_code == 0 and plane.counters.writes == 11


def test_dry_run_writes_nothing(env: dict[str, str], plane: ManagementPlane, repo_root: Path) -> None:
    result = run(env, "apply", "--dry-run", config=repo_root / "toolkit.yaml")
    assert result.exit_code == 0 and "Dry run" in result.stderr and plane.counters.writes == 0


def test_saved_plan_is_refused_when_the_target_changed(env: dict[str, str], plane: ManagementPlane, tls: TlsMaterial,
                                                       repo_root: Path, tmp_path: Path) -> None:
    config = repo_root / "toolkit.yaml"
    assert run(env, "apply", "--yes", config=config).exit_code == 0
    sdk = management_client(env["TOOLKIT_MANAGEMENT_URL"], tls.ca_bundle_path, token=env["TOOLKIT_EMULATOR_TOKEN"])
    body = json.loads((repo_root / "apimartifacts/backends/openai-westus/backendInformation.json").read_text())
    body["properties"]["url"] = "https://elsewhere.example.com/openai"
    sdk.backend.create_or_update("toolkit-local", "toolkit-local", "openai-westus", io.BytesIO(json.dumps(body).encode()))
    plan_file = tmp_path / "plan.json"
    planned = run(env, "plan", "--out", str(plan_file), config=config)
    assert "~ update    backend 'openai-westus'" in planned.stdout
    assert "properties.url: 'https://elsewhere.example.com/openai' -> 'https://aoai-westus" in planned.stdout
    sdk.backend.create_or_update("toolkit-local", "toolkit-local", "openai-westus", io.BytesIO(json.dumps(body).encode()))
    sdk.close()
    plane.counters.reset()
    stale = run(env, "apply", "--plan", str(plan_file), "--yes", config=config)
    assert stale.exit_code == 4, stale.output
    assert "backend 'openai-westus' was changed on the target" in stale.stderr and plane.counters.writes == 0


def test_saved_plan_applies_when_nothing_changed(env: dict[str, str], plane: ManagementPlane, repo_root: Path,
                                                 tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.json"
    assert run(env, "plan", "--out", str(plan_file), config=repo_root / "toolkit.yaml").exit_code == 0
    result = run(env, "apply", "--plan", str(plan_file), "--yes", config=repo_root / "toolkit.yaml")
    assert result.exit_code == 0, result.output
    assert plane.counters.writes == 11
    wrong_feature = run(env, "apply", "retry", "--plan", str(plan_file), "--yes", config=repo_root / "toolkit.yaml")
    assert wrong_feature.exit_code == 2


def test_saved_plan_is_refused_when_the_artifacts_changed(env: dict[str, str], project: Path, tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.json"
    assert run(env, "plan", "--out", str(plan_file), config=project).exit_code == 0
    changed = run(env, "apply", "--plan", str(plan_file), "--yes", config=project, extra_env={"PLAIN_VALUE": "plain-2"})
    assert changed.exit_code == 4 and "the artifacts changed since the plan" in changed.stderr


def test_secrets_never_reach_output_or_plan_files(env: dict[str, str], project: Path, tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.json"
    outputs = [run(env, "plan", "--out", str(plan_file), config=project),
               run(env, "apply", "--yes", config=project)]
    outputs.append(run(env, "plan", "--format", "json", config=project, extra_env={"API_SECRET": SECRET + "-rotated"}))
    outputs.append(run(env, "apply", "--yes", config=project, extra_env={"API_SECRET": SECRET + "-rotated"}))
    assert all(r.exit_code == 0 for r in outputs), [r.output for r in outputs]
    assert '"path": "properties.value"' in outputs[2].stdout and '"(secret)"' in outputs[2].stdout
    text = "".join(r.output for r in outputs) + plan_file.read_text()
    assert SECRET not in text


def test_prune_cli(env: dict[str, str], plane: ManagementPlane, project: Path, tmp_path: Path) -> None:
    assert run(env, "apply", "--yes", config=project).exit_code == 0
    project.write_text(SECRET_CONFIG.replace('  - {name: plain, value: "${PLAIN_VALUE}"}\n', ""), encoding="utf-8")
    kept = run(env, "apply", "--yes", config=project)
    assert kept.exit_code == 0 and "--prune deletes them" in kept.stdout
    assert plane.store.get(_nv("plain")) is not None
    plan_file = tmp_path / "prune.json"
    assert run(env, "plan", "--prune", "--out", str(plan_file), config=project).exit_code == 0
    assert run(env, "apply", "--plan", str(plan_file), "--yes", config=project).exit_code == 2  # no --prune
    pruned = run(env, "apply", "--plan", str(plan_file), "--yes", "--prune", config=project)
    assert pruned.exit_code == 0, pruned.output
    assert plane.store.get(_nv("plain")) is None
    assert run(env, "plan", "retry", "--prune", config=project).exit_code == 3  # prune needs the whole gateway


def test_failed_write_rolls_back_and_exits_4(env: dict[str, str], plane: ManagementPlane, repo_root: Path) -> None:
    plane.faults.fail_nth_write(6, 500)
    result = run(env, "apply", "--yes", "--format", "json", config=repo_root / "toolkit.yaml")
    assert result.exit_code == 4
    assert "rolled back:" in result.stderr and "the target is as before the apply" in result.stderr
    assert plane.store.all() == []
    printed = json.loads(result.stdout)  # stdout stays one object when the apply fails
    failed = printed["failed"]
    assert failed["target_as_before"] is True and failed["left_changed"] == []
    assert failed["rolled_back"] and all(line.startswith("deleted ") for line in failed["rolled_back"])
    assert failed["change"]["op"] == "create" and "500" in failed["error"]


def test_pull_then_lint_and_plan_show_no_drift(env: dict[str, str], repo_root: Path, tmp_path: Path) -> None:
    config = repo_root / "toolkit.yaml"
    assert run(env, "apply", "--yes", config=config).exit_code == 0
    out = tmp_path / "pulled"
    pulled = run(env, "pull", "--out", str(out), config=config)
    assert pulled.exit_code == 0, pulled.output
    assert "wrote 13 file(s)" in pulled.stderr
    spec = json.loads((out / "apis/azure-openai/specification.json").read_text())
    assert spec["paths"]["/openai/deployments/{deployment-id}/chat/completions"]["post"]["operationId"] == \
        "ChatCompletions_Create"
    assert CliRunner().invoke(root, ["lint", str(out)]).exit_code == 0
    drift = run(env, "plan", "--artifacts", str(out), "--detailed-exitcode", config=config)
    assert drift.exit_code == 0, drift.output
    assert "7 operations" not in drift.output and "0 to update" in drift.output
    (out / "backends/stale/").mkdir()
    (out / "backends/stale/backendInformation.json").write_text('{"properties": {"url": "https://s", "protocol": "http"}}')
    again = run(env, "pull", "--out", str(out), "--clean", config=config)
    assert again.exit_code == 0 and not (out / "backends/stale").exists()
    assert "removed 1 file(s) not on the target" in again.stderr and "wrote" not in again.stderr  # not "wrote"


def test_lint_errors_refuse_before_touching_the_target(env: dict[str, str], plane: ManagementPlane,
                                                        repo_root: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "backends/pool").mkdir(parents=True)
    (tree / "backends/pool/backendInformation.json").write_text(
        '{"properties": {"type": "Pool", "url": "https://x", "pool": {"services": [{"id": "/backends/a"}]}}}')
    result = run(env, "apply", "--yes", "--artifacts", str(tree), config=repo_root / "toolkit.yaml")
    assert result.exit_code == 1 and "APIM005" in result.stdout and "refused" in result.stderr
    assert plane.counters.snapshot()["total"] == 0


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_emulator_is_exit_4(tls: TlsMaterial, repo_root: Path) -> None:
    env = {"TOOLKIT_MANAGEMENT_URL": f"https://127.0.0.1:{_closed_port()}", "TOOLKIT_CA_BUNDLE": str(tls.ca_bundle_path),
           "TOOLKIT_EMULATOR_TOKEN": "some-token"}
    result = run(env, "plan", config=repo_root / "toolkit.yaml")
    assert result.exit_code == 4 and "cannot reach https://127.0.0.1:" in result.stderr
    assert "Traceback" not in result.output


def test_local_target_without_a_url_publishes_to_an_in_process_emulator(project: Path) -> None:
    """No running emulator named: an in-process one serves the command, its state kept beside the config."""
    clean = {"TOOLKIT_MANAGEMENT_URL": "", "TOOLKIT_EMULATOR_URL": ""}
    assert run(clean, "apply", "--yes", config=project).exit_code == 0
    assert (project.parent / ".toolkit" / "emulator-state.json").is_file()
    again = run(clean, "plan", "--detailed-exitcode", config=project)
    assert again.exit_code == 0, again.output  # the state persisted: nothing left to do


def test_saved_plan_applies_to_the_in_process_emulator(project: Path, tmp_path: Path) -> None:
    """A plan file names its target; the in-process emulator's name must not change between runs."""
    clean = {"TOOLKIT_MANAGEMENT_URL": "", "TOOLKIT_EMULATOR_URL": ""}
    plan_file = tmp_path / "plan.json"
    assert run(clean, "plan", "--out", str(plan_file), config=project).exit_code == 0
    applied = run(clean, "apply", "--plan", str(plan_file), "--yes", config=project)
    assert applied.exit_code == 0, applied.output
    assert run(clean, "plan", "--detailed-exitcode", config=project).exit_code == 0


def test_unreachable_running_emulator_is_exit_4(project: Path) -> None:
    result = run({"TOOLKIT_MANAGEMENT_URL": "", "TOOLKIT_EMULATOR_URL": "http://127.0.0.1:9",
                  "TOOLKIT_EMULATOR_TOKEN": "some-token"}, "plan", config=project)
    assert result.exit_code == 4 and "TOOLKIT_EMULATOR_URL" in result.stderr


def test_running_emulator_without_its_token_is_exit_3(project: Path, tmp_path: Path) -> None:
    """No TOOLKIT_EMULATOR_TOKEN and no token file: a clear message naming both, before any call."""
    result = run({"TOOLKIT_MANAGEMENT_URL": "", "TOOLKIT_EMULATOR_URL": "http://127.0.0.1:9", "TOOLKIT_EMULATOR_TOKEN": "",
                  "HOME": str(tmp_path)}, "plan", config=project)
    assert result.exit_code == 3, result.output
    assert "TOOLKIT_EMULATOR_TOKEN" in result.stderr and "9.token" in result.stderr


def test_azure_with_missing_credentials_is_exit_4(project: Path) -> None:
    result = run({}, "plan", "--env", "dev", "--auth", "client-secret", config=project,
                 extra_env={"AZURE_TENANT_ID": "", "AZURE_CLIENT_ID": "", "AZURE_CLIENT_SECRET": ""})
    assert result.exit_code == 4
    assert "ClientSecretCredential (--auth client-secret) needs AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET" \
        in result.stderr


def _nv(name: str) -> Any:
    from toolkit.emulator.management import ResourceKey, ResourceKind

    return ResourceKey(ResourceKind.NAMED_VALUE, name)


def test_foreign_tree_kinds_are_reported_not_dropped(env: dict[str, str], repo_root: Path, tmp_path: Path) -> None:
    tree = tmp_path / "extracted"
    shutil.copytree(repo_root / "apimartifacts", tree)
    foreign = {
        "products/starter/productInformation.json": "{}",
        "products/starter/apis.json": "[]",
        "loggers/appinsights/loggerInformation.json": "{}",
        "diagnostics/applicationinsights/diagnosticInformation.json": "{}",
        "apis/azure-openai/diagnostics/applicationinsights/diagnosticInformation.json": "{}",
        "apis/legacy/specification.wsdl": "<definitions/>",
    }
    for relpath, text in foreign.items():
        (tree / relpath).parent.mkdir(parents=True, exist_ok=True)
        (tree / relpath).write_text(text, encoding="utf-8")
    result = run(env, "plan", "--artifacts", str(tree), config=repo_root / "toolkit.yaml")
    assert result.exit_code == 0, result.output
    for line in ("not published by toolkit: products (2 files)", "not published by toolkit: loggers (1 file)",
                 "not published by toolkit: diagnostics (1 file)", "not published by toolkit: API diagnostics (1 file)",
                 "not published by toolkit: API specifications (wsdl) (1 file)",
                 "not published by toolkit: APIOps configuration overrides (1 file)"):  # dev's; local's is applied
        assert line in result.stderr


def test_the_committed_apiops_tree_with_its_environment_overrides_matches_the_config(
        env: dict[str, str], repo_root: Path, tmp_path: Path) -> None:
    config = repo_root / "toolkit.yaml"
    assert run(env, "apply", "--yes", config=config).exit_code == 0
    # the base tree plus configuration.local.yaml (merged as the APIOps publisher does) is what toolkit.yaml says
    drift = run(env, "plan", "--artifacts", str(repo_root / "apimartifacts"), "--detailed-exitcode", config=config)
    assert drift.exit_code == 0, drift.output
    assert "with configuration.local.yaml" in drift.stderr
    tree = tmp_path / "tree"
    shutil.copytree(repo_root / "apimartifacts", tree)
    (tree / "configuration.local.yaml").unlink()  # the base alone names Entra, not the emulator: drift
    assert run(env, "plan", "--artifacts", str(tree), "--detailed-exitcode", config=config).exit_code == 1
    (tree / "configuration.local.yaml").write_text(
        "namedValues:\n  - name: jwt-issuer\n    properties:\n      value: https://{#ISSUER_HOST#}/v2.0\n")
    unset = run(env, "plan", "--artifacts", str(tree), config=config)
    assert unset.exit_code == 3 and "configuration.local.yaml:4: {#ISSUER_HOST#} is not set" in unset.output
    (tree / "configuration.local.yaml").unlink()
    (tree / "configuration.local.yaml").mkdir()  # not skipped as if there were no overrides
    folder = run(env, "plan", "--artifacts", str(tree), config=config)
    assert folder.exit_code == 3 and "configuration.local.yaml: is a folder, not a configuration file" in folder.output


def test_plan_on_azure_does_not_need_the_gateway_key(repo_root, tmp_path, monkeypatch) -> None:
    """plan never sends a subscription key: an unset APIM_SUBSCRIPTION_KEY must not stop it (it gets as far
    as the credentials, exit 4), while an unset subscription id does (exit 3, naming the variable)."""
    from click.testing import CliRunner

    from toolkit.cli import root

    for name in ("APIM_SUBSCRIPTION_KEY", "APIM_BASE_URL", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {"AZURE_SUBSCRIPTION_ID": "sub-1", "AZURE_RESOURCE_GROUP_NAME": "rg-1",
                        "API_MANAGEMENT_SERVICE_NAME": "apim-1", "TENANT_ID": "t", "CLIENT_ID": "c"}.items():
        monkeypatch.setenv(name, value)
    args = ["plan", "--config", str(repo_root / "toolkit.yaml"), "--env", "dev", "--auth", "client-secret"]
    result = CliRunner().invoke(root, args)
    assert result.exit_code == 4, result.output
    assert "AZURE_CLIENT_SECRET" in result.output and "APIM_SUBSCRIPTION_KEY" not in result.output
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID")
    result = CliRunner().invoke(root, args)
    assert result.exit_code == 3, result.output
    assert "${AZURE_SUBSCRIPTION_ID} is not set" in result.output


def test_a_failed_undo_is_listed_by_resource_not_as_restored(env: dict[str, str], plane: ManagementPlane,
                                                             repo_root: Path) -> None:
    plane.faults.fail_nth_write(3, 500)  # the third create fails ...
    plane.faults.fail_nth_write(4, 500)  # ... and so does the rollback's first undo (of the second create)
    result = run(env, "apply", "--yes", config=repo_root / "toolkit.yaml")
    assert result.exit_code == 4, result.output
    done = [line.split("done: create ", 1)[1] for line in result.stderr.splitlines() if "done: create " in line]
    assert len(done) == 2
    rolled_back, left = result.stderr.split("rolled back:\n", 1)[1].split("NOT restored, left changed by this apply")
    assert f"deleted {done[0]} (created by this apply)" in rolled_back and done[1] not in rolled_back
    left_lines = [line.strip() for line in left.splitlines()[1:] if line.startswith("  ")]
    assert left_lines[0].startswith(f"{done[1]}: create not undone: ") and "HTTP 500" in left_lines[0]
    assert not any(line.startswith(("restored ", "re-created ", "deleted ")) for line in left_lines)
    assert "as before the apply" not in result.stderr


@pytest.mark.parametrize("debug", [False, True])
def test_a_bug_during_apply_rolls_back_then_exits_70(env: dict[str, str], plane: ManagementPlane, repo_root: Path,
                                                     monkeypatch: pytest.MonkeyPatch, debug: bool) -> None:
    from toolkit.publish.client import ApimClient

    put, calls = ApimClient.put, []

    def put_with_a_bug(self: ApimClient, *args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        if len(calls) == 3:  # the third create raises something no refusal is
            raise ZeroDivisionError("boom")
        return put(self, *args, **kwargs)

    monkeypatch.setattr(ApimClient, "put", put_with_a_bug)
    result = run(env, *(["--debug"] if debug else []), "apply", "--yes", config=repo_root / "toolkit.yaml")
    assert result.exit_code == 70, result.output
    assert "failed: internal error (ZeroDivisionError): boom" in result.stderr
    assert "rolled back:" in result.stderr and "the target is as before the apply" in result.stderr
    assert "hint: this is a bug in toolkit: re-run with --debug" in result.stderr
    assert plane.store.all() == []  # the two creates before it were undone
    assert ("Traceback" in result.output) is debug
    assert ("ZeroDivisionError: boom" in result.output) is debug  # --debug shows the bug's own traceback
