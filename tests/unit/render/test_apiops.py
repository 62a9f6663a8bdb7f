"""`render --apiops`: an environment-free base tree, and configuration.<env>.yaml files that the APIOps
publisher's merge turns into exactly each environment's tree."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from toolkit.artifacts.apiops_config import apply_configuration, merge
from toolkit.artifacts.model import ArtifactSet
from toolkit.config import load_config
from toolkit.errors import ConfigError
from toolkit.render import render_artifacts
from toolkit.render.apiops import render_apiops, token_environ


def _environment_tree(config: Path, templates: Path, env: str) -> ArtifactSet:
    environ = token_environ(config.read_text(encoding="utf-8"))
    return render_artifacts(load_config(config, env, environ=environ).gateway, templates)


@pytest.mark.parametrize("env", ["local", "dev"])
def test_configuration_file_applied_as_apiops_does_gives_the_environment_tree(repo_root: Path, env: str) -> None:
    config, templates = repo_root / "toolkit.yaml", repo_root / "policies"
    tree = render_apiops(config, templates)
    configuration = yaml.safe_load(tree.get(f"configuration.{env}.yaml"))
    base = ArtifactSet({p: tree.get(p) for p in tree.paths() if not p.startswith("configuration.")})
    expected = _environment_tree(config, templates, env)
    assert base != expected  # the environment really differs from the base
    assert apply_configuration(base, configuration) == expected


def test_the_base_tree_names_no_environment(repo_root: Path) -> None:
    tree = render_apiops(repo_root / "toolkit.yaml", repo_root / "policies")
    base_text = "".join(tree.get(p) or "" for p in tree.paths() if not p.startswith("configuration."))
    assert "emulator" not in base_text and "{#" not in base_text
    dev = yaml.safe_load(tree.get("configuration.dev.yaml"))
    issuer = next(o for o in dev["namedValues"] if o["name"] == "jwt-issuer")
    assert issuer == {"name": "jwt-issuer", "properties": {"value": "https://login.microsoftonline.com/{#TENANT_ID#}/v2.0"}}


def test_backend_urls_that_differ_per_environment_are_overrides(repo_root: Path, tmp_path: Path) -> None:
    shutil.copytree(repo_root / "policies", tmp_path / "policies")
    config = tmp_path / "toolkit.yaml"
    config.write_text(
        "apis: [{name: a, path: a, backend: b}]\n"
        "backends: [{name: b, url: 'https://b.openai.azure.com', auth: {api_key: '${B_KEY}'}}]\n"
        "environments:\n"
        "  prod: {target: local, overrides: {backends: [{name: b, url: 'https://b-prod.openai.azure.com'}]}}\n",
        encoding="utf-8")
    tree = render_apiops(config, tmp_path / "policies")
    # the secret api-key named value has no value in its artifact: the publisher gets it from the pipeline
    assert yaml.safe_load(tree.get("configuration.prod.yaml")) == {
        "namedValues": [{"name": "b-api-key", "properties": {"value": "{#B_KEY#}"}}],
        "backends": [{"name": "b", "properties": {"url": "https://b-prod.openai.azure.com"}}]}
    assert "B_KEY" not in (tree.get("named values/b-api-key/namedValueInformation.json") or "")
    assert "b-prod" not in (tree.get("backends/b/backendInformation.json") or "")


def test_an_environment_difference_apiops_cannot_express_is_refused(repo_root: Path, tmp_path: Path) -> None:
    shutil.copytree(repo_root / "policies", tmp_path / "policies")
    config = tmp_path / "toolkit.yaml"
    config.write_text(
        "apis: [{name: a, path: a, backend: b}]\nbackends: [{name: b, url: 'https://b.example.com'}]\n"
        "environments:\n  prod: {target: local, overrides: {apis: [{name: a, path: a2}]}}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="apis/a/apiInformation.json"):
        render_apiops(config, tmp_path / "policies")


def test_merge_follows_the_publisher() -> None:
    current = {"properties": {"url": "u", "credentials": {"header": {"api-key": ["k"]}}, "list": [1, 2]}}
    merged = merge(current, {"properties": {"credentials": {"query": {"q": ["v"]}}, "list": [3]}})
    assert merged == {"properties": {"url": "u", "credentials": {"header": {"api-key": ["k"]}, "query": {"q": ["v"]}},
                                     "list": [3]}}
    assert current["properties"]["list"] == [1, 2]


def test_a_literal_secret_is_never_written(repo_root: Path, tmp_path: Path) -> None:
    shutil.copytree(repo_root / "policies", tmp_path / "policies")
    config = tmp_path / "toolkit.yaml"
    config.write_text(
        "apis: [{name: a, path: a, backend: b}]\n"
        "backends: [{name: b, url: 'https://b.openai.azure.com', auth: {api_key: hunter2-literal}}]\n"
        "named_values: [{name: s, value: '${S_VALUE}', secret: true}]\n"
        "environments: {prod: {target: local}}\n", encoding="utf-8")
    tree = render_apiops(config, tmp_path / "policies")
    assert not any("hunter2" in (tree.get(p) or "") for p in tree.paths())
    assert yaml.safe_load(tree.get("configuration.prod.yaml")) == {
        "namedValues": [{"name": "s", "properties": {"value": "{#S_VALUE#}"}}]}
