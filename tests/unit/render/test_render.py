"""Render: deterministic output in the APIOps layout, feature ownership, template errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from lxml import etree

from toolkit.config import load_config
from toolkit.errors import TemplateError
from toolkit.render import owned_paths, render_artifacts

FIXTURES = Path(__file__).parents[2] / "fixtures" / "render"


def _render(repo_root: Path, config: Path | None = None) -> tuple[object, object]:
    loaded = load_config(config or repo_root / "toolkit.yaml", environ={})
    return loaded.gateway, render_artifacts(loaded.gateway, repo_root / "policies")


def test_apiops_layout_and_shapes(repo_root: Path) -> None:
    gateway, artifacts = _render(repo_root)
    assert set(artifacts.paths()) == {
        "apis/azure-openai/apiInformation.json",
        "apis/azure-openai/policy.xml",
        "apis/azure-openai/specification.json",
        "backends/embeddings/backendInformation.json",
        "backends/openai-backend-pool/backendInformation.json",
        "backends/openai-eastus/backendInformation.json",
        "backends/openai-northcentralus/backendInformation.json",
        "backends/openai-westus/backendInformation.json",
        "named values/jwt-audience/namedValueInformation.json",
        "named values/jwt-issuer/namedValueInformation.json",
        "named values/openid-config-url/namedValueInformation.json",
        "policy fragments/error-reason/policy.xml",
        "policy fragments/error-reason/policyFragmentInformation.json",
    }
    pool = artifacts.json("backends/openai-backend-pool/backendInformation.json")
    assert list(pool) == ["properties"]
    assert "url" not in pool["properties"] and "protocol" not in pool["properties"]
    assert pool["properties"]["type"] == "Pool"
    assert pool["properties"]["pool"]["services"] == [
        {"id": "/backends/openai-eastus", "priority": 1, "weight": 50},
        {"id": "/backends/openai-northcentralus", "priority": 1, "weight": 50},
        {"id": "/backends/openai-westus", "priority": 2, "weight": 100},
    ]
    east = artifacts.json("backends/openai-eastus/backendInformation.json")["properties"]
    assert east["type"] == "Single" and east["url"] == "https://aoai-eastus.openai.azure.com"
    rule = east["circuitBreaker"]["rules"][0]
    assert rule["failureCondition"] == {"count": 3, "interval": "PT5M", "statusCodeRanges": [{"min": 429, "max": 429}]}
    assert (rule["tripDuration"], rule["acceptRetryAfter"]) == ("PT1M", False)


def test_policy_composition(repo_root: Path) -> None:
    _, artifacts = _render(repo_root)
    root = etree.fromstring(artifacts.get("apis/azure-openai/policy.xml").encode())
    inbound = [child.tag for child in root.find("inbound")]
    assert inbound == [
        "base",
        "validate-jwt",
        "azure-openai-semantic-cache-lookup",
        "azure-openai-token-limit",
        "set-backend-service",
        "authentication-managed-identity",
    ]
    identity = root.find("inbound/authentication-managed-identity")
    assert identity.attrib == {"resource": "https://cognitiveservices.azure.com"}
    lookup = root.find("inbound/azure-openai-semantic-cache-lookup")
    assert lookup.get("embeddings-backend-auth") == "system-assigned"
    retry = root.find("backend/retry")
    assert retry.get("count") == "2"  # pool of 3 -> count auto = 2
    assert retry.get("condition") == "@(context.Response.StatusCode == 429 || context.Response.StatusCode == 503)"
    assert retry.find("forward-request").get("buffer-request-body") == "true"
    assert root.find("inbound/azure-openai-semantic-cache-lookup").get("score-threshold") == "0.05"
    assert root.find("outbound/azure-openai-semantic-cache-store").get("duration") == "120"
    assert root.find("inbound/set-backend-service").get("backend-id") == "openai-backend-pool"


def test_render_is_deterministic(repo_root: Path) -> None:
    first = _render(repo_root)[1]
    second = _render(repo_root)[1]
    assert first == second


def test_secret_named_value_is_not_written(repo_root: Path, tmp_path: Path) -> None:
    text = (repo_root / "toolkit.yaml").read_text(encoding="utf-8").replace(
        "named_values:\n", "named_values:\n  - {name: backend-key, value: s3cr3t-v4lue, secret: true}\n", 1
    )
    config = tmp_path / "toolkit.yaml"
    config.write_text(text, encoding="utf-8")
    _, artifacts = _render(repo_root, config)
    document = artifacts.json("named values/backend-key/namedValueInformation.json")
    assert document == {"properties": {"displayName": "backend-key", "secret": True}}
    assert all("s3cr3t-v4lue" not in (artifacts.get(p) or "") for p in artifacts.paths())


@pytest.mark.parametrize(
    ("features", "expected"),
    [
        (["circuit-breaker"], {"backends/openai-eastus", "backends/openai-northcentralus", "backends/openai-westus"}),
        (["semantic-cache"], {"apis/azure-openai", "backends/embeddings", "named values/",
                              "policy fragments/error-reason"}),
        (
            ["backend-pool"],
            {"apis/azure-openai", "backends/openai-backend-pool", "backends/openai-eastus",
             "backends/openai-northcentralus", "backends/openai-westus", "named values/",
             "policy fragments/error-reason"},
        ),
    ],
)
def test_features_own_their_files(repo_root: Path, features: list[str], expected: set[str]) -> None:
    gateway, artifacts = _render(repo_root)
    owned = owned_paths(gateway, features, artifacts)
    assert {_folder(p) for p in owned} == expected


def _folder(path: str) -> str:
    parts = path.split("/")
    return "named values/" if parts[0] == "named values" else "/".join(parts[:2])


@pytest.mark.parametrize("name", ["002-variants", "003-auth-and-spec"])
def test_golden_tree(repo_root: Path, name: str) -> None:
    """002: policy variants; 003: backend auth (managed identity, api-key, Key Vault) and the three spec kinds."""
    case = FIXTURES / name
    gateway = load_config(case / "toolkit.yaml", environ={}).gateway
    artifacts = render_artifacts(gateway, repo_root / "policies", base_dir=case)
    expected_root = case / "expected"
    expected = {p.relative_to(expected_root).as_posix(): p.read_text(encoding="utf-8") for p in expected_root.rglob("*") if p.is_file()}
    assert {p: artifacts.get(p) for p in artifacts.paths()} == expected


def test_undefined_template_variable_names_template_and_line(repo_root: Path, tmp_path: Path) -> None:
    templates = tmp_path / "policies"
    shutil.copytree(repo_root / "policies", templates)
    path = templates / "semantic-cache-store.xml.j2"
    path.write_text(path.read_text(encoding="utf-8") + "\n<!-- {{ api.semantic_cache.no_such_field }} -->\n", encoding="utf-8")
    gateway = load_config(repo_root / "toolkit.yaml", environ={}).gateway
    with pytest.raises(TemplateError) as caught:
        render_artifacts(gateway, templates)
    assert f"{path}:3" in str(caught.value)
    assert "no_such_field" in str(caught.value)


def test_template_syntax_error(repo_root: Path, tmp_path: Path) -> None:
    templates = tmp_path / "policies"
    shutil.copytree(repo_root / "policies", templates)
    (templates / "retry.xml.j2").write_text("{% if %}\n", encoding="utf-8")
    gateway = load_config(repo_root / "toolkit.yaml", environ={}).gateway
    with pytest.raises(TemplateError, match=r"retry\.xml\.j2:1"):
        render_artifacts(gateway, templates)


@pytest.mark.parametrize(("line", "expected"), [
    ('<!-- {{ "x" + 1 }} -->', "TypeError: can only concatenate str"),
    ("<!-- {{ 1 / 0 }} -->", "ZeroDivisionError: division by zero"),
    ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "recursion too deep"),
])
def test_a_failing_template_expression_names_template_and_line(repo_root: Path, tmp_path: Path, line: str,
                                                                expected: str) -> None:
    """Errors raised while rendering (not only undefined names) are the template's, with its file and line."""
    templates = tmp_path / "policies"
    shutil.copytree(repo_root / "policies", templates)
    path = templates / "retry.xml.j2"
    path.write_text("\n" + line + "\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    gateway = load_config(repo_root / "toolkit.yaml", environ={}).gateway
    with pytest.raises(TemplateError) as caught:
        render_artifacts(gateway, templates)
    assert f"{path}:2: {expected}" in str(caught.value)


def test_a_template_that_is_not_utf8_is_named(repo_root: Path, tmp_path: Path) -> None:
    templates = tmp_path / "policies"
    shutil.copytree(repo_root / "policies", templates)
    path = templates / "retry.xml.j2"
    path.write_bytes(path.read_bytes() + b"\xff")
    gateway = load_config(repo_root / "toolkit.yaml", environ={}).gateway
    with pytest.raises(TemplateError, match=r"retry\.xml\.j2: not UTF-8 text \(byte \d+: b'\\xff'\)"):
        render_artifacts(gateway, templates)


def test_template_producing_bad_json_is_refused(repo_root: Path, tmp_path: Path) -> None:
    templates = tmp_path / "policies"
    shutil.copytree(repo_root / "policies", templates)
    (templates / "api.json.j2").write_text('{"properties": {', encoding="utf-8")
    gateway = load_config(repo_root / "toolkit.yaml", environ={}).gateway
    with pytest.raises(TemplateError, match="api.json.j2: rendered invalid JSON"):
        render_artifacts(gateway, templates)


def test_json_artifacts_are_canonical(repo_root: Path) -> None:
    _, artifacts = _render(repo_root)
    for path in artifacts.paths():
        if path.endswith(".json"):
            text = artifacts.get(path)
            assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
