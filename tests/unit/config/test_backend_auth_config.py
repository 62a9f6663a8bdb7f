"""Backend auth, spec and openai_api_version in toolkit.yaml: accepted forms, and bad input named by file:line:field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import root
from toolkit.config import load_config
from toolkit.errors import ConfigError

GUID = "11111111-2222-3333-4444-555555555555"


def _config(tmp_path: Path, backend_auth: str, *, api_extra: str = "", env_extra: str = "") -> Path:
    path = tmp_path / "toolkit.yaml"
    path.write_text(
        "apis:\n"
        f"  - {{name: a, path: a, backend: b{api_extra}}}\n"
        "backends:\n"
        "  - name: b\n"
        "    url: https://b.openai.azure.com\n"
        f"    auth: {backend_auth}\n"
        "environments:\n"
        f"  local: {{target: local{env_extra}}}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("written", "expected"), [
    ("managed-identity", {"managed_identity": True}),
    (f"{{managed_identity: {{client_id: {GUID}}}}}", {"managed_identity": True, "client_id": GUID}),
    ("{api_key: k3y}", {"api_key": "k3y"}),
    ("{key_vault: 'https://kv.vault.azure.net/secrets/aoai'}", {"key_vault": "https://kv.vault.azure.net/secrets/aoai"}),
])
def test_auth_forms(tmp_path: Path, written: str, expected: dict) -> None:
    auth = load_config(_config(tmp_path, written), environ={}).gateway.backends[0].auth
    assert auth.model_dump(exclude_defaults=True) == expected


@pytest.mark.parametrize(("written", "field", "reason"), [
    ("{managed_identity: {client_id: not-a-guid}}", "backends[0].auth.client_id", "is not a GUID"),
    ("{key_vault: kv/secrets/aoai}", "backends[0].auth.key_vault", "is not a Key Vault secret identifier URL"),
    ("{api_key: k, key_vault: 'https://kv.vault.azure.net/secrets/x'}", "backends[0].auth", "exactly one of"),
    ("{client_id: " + GUID + "}", "backends[0].auth", "exactly one of"),
])
def test_bad_auth_is_exit_3_with_file_line_field(tmp_path: Path, written: str, field: str, reason: str) -> None:
    path = _config(tmp_path, written)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert str(caught.value).startswith(f"{path}:6: {field}: ") and reason in str(caught.value)
    assert caught.value.exit_code == 3


def test_unknown_openai_api_version_is_refused(tmp_path: Path) -> None:
    path = _config(tmp_path, "managed-identity", env_extra=", openai_api_version: '2024-13-01'")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert str(caught.value).startswith(f"{path}:8: environments.local.openai_api_version: ")
    assert "not an Azure OpenAI api-version" in str(caught.value)
    assert load_config(_config(tmp_path, "managed-identity", env_extra=", openai_api_version: '2024-10-21'"),
                       environ={}).environment.openai_api_version == "2024-10-21"


def test_spec_must_be_builtin_or_a_json_yaml_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"apis\[0\]\.spec: 'swagger\.txt': use azure-openai-inference or wildcard"):
        load_config(_config(tmp_path, "managed-identity", api_extra=", spec: swagger.txt"), environ={})


def test_a_spec_file_that_is_not_openapi_is_exit_3_naming_the_file_and_line(tmp_path: Path, repo_root: Path) -> None:
    shutil.copytree(repo_root / "policies", tmp_path / "policies")
    config = _config(tmp_path, "managed-identity", api_extra=", spec: api.yaml")
    (tmp_path / "api.yaml").write_text("info: {title: t}\nswagger: '2.0'\npaths: {}\n", encoding="utf-8")
    result = CliRunner().invoke(root, ["render", "--config", str(config)])
    assert result.exit_code == 3, result.output
    assert f"{tmp_path / 'api.yaml'}:2: apis[0].spec: not an OpenAPI 3 document (swagger 2.0)" in result.output
    assert "Traceback" not in result.output
    (tmp_path / "api.yaml").write_text("openapi: 3.0.1\npaths: [unclosed\n", encoding="utf-8")
    result = CliRunner().invoke(root, ["render", "--config", str(config)])
    assert result.exit_code == 3 and f"{tmp_path / 'api.yaml'}:3: apis[0].spec: not valid JSON or YAML" in result.output


def test_a_user_assigned_identity_cannot_authenticate_the_semantic_cache(tmp_path: Path, repo_root: Path) -> None:
    shutil.copytree(repo_root / "policies", tmp_path / "policies")
    config = tmp_path / "toolkit.yaml"
    config.write_text(
        "apis: [{name: a, path: a, backend: b, semantic_cache: {score_threshold: 0.1, embeddings_backend: e, duration: 9}}]\n"
        "backends:\n  - {name: b, url: 'https://b.openai.azure.com', auth: managed-identity}\n"
        f"  - {{name: e, url: 'https://b.openai.azure.com/e', auth: {{managed_identity: {{client_id: {GUID}}}}}}}\n"
        "environments: {local: {target: local}}\n", encoding="utf-8")
    result = CliRunner().invoke(root, ["render", "--config", str(config)])
    assert result.exit_code == 3
    assert "apis[0].semantic_cache.embeddings_backend" in result.output and "system-assigned only" in result.output
