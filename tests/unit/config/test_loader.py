"""The loader: environments, overrides, ${VAR} and .env, and the committed sample config."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.config import load_config
from toolkit.errors import ConfigError

BASE = (Path(__file__).parents[2] / "fixtures" / "config" / "valid-base.yaml").read_text(encoding="utf-8")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "toolkit.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_sample_config_describes_the_seed_gateway(repo_root: Path) -> None:
    config = load_config(repo_root / "toolkit.yaml", environ={})
    gateway = config.gateway
    assert config.env_name == "local"
    assert {b.region for b in gateway.backends if b.circuit_breaker} == {"East US", "North Central US", "West US"}
    pool = gateway.pool("openai-backend-pool")
    assert pool is not None
    assert [(m.priority, m.weight) for m in pool.members] == [(1, 50), (1, 50), (2, 100)]
    for backend in gateway.backends:
        if backend.circuit_breaker:
            rule = backend.circuit_breaker
            assert (rule.count, rule.interval, rule.trip_duration) == (3, "PT5M", "PT1M")
            assert [(r.min, r.max) for r in rule.status_codes] == [(429, 429)]
    api = gateway.apis[0]
    assert api.retry is not None and api.retry.on_status == [429, 503]
    assert gateway.retry_count(api) == len(pool.members) - 1
    assert api.semantic_cache is not None and api.semantic_cache.score_threshold == 0.05
    assert api.semantic_cache.duration == 120
    assert api.token_limit is not None and api.jwt is not None
    assert set(gateway.environments) == {"local", "dev"}


def test_dev_environment_reads_the_seed_variable_names(repo_root: Path) -> None:
    environ = {
        "AZURE_SUBSCRIPTION_ID": "sub-1",
        "AZURE_RESOURCE_GROUP_NAME": "rg-1",
        "API_MANAGEMENT_SERVICE_NAME": "apim-1",
        "APIM_BASE_URL": "https://apim-1.azure-api.net",
        "APIM_SUBSCRIPTION_KEY": "secret-key",
        "TENANT_ID": "tenant-1",
        "CLIENT_ID": "client-1",
        "OPENAI_DEPLOYMENT_NAME": "gpt-4o",
    }
    config = load_config(repo_root / "toolkit.yaml", "dev", environ=environ)
    env = config.environment
    assert (env.subscription_id, env.resource_group, env.service) == ("sub-1", "rg-1", "apim-1")
    assert env.gateway_url == "https://apim-1.azure-api.net" and env.deployment == "gpt-4o"
    assert env.openai_api_version == "2024-10-21"  # ${OPENAI_API_VERSION:-2024-10-21}
    values = {n.name: n.value for n in config.gateway.named_values}
    assert values["jwt-audience"] == "api://client-1"
    assert values["openid-config-url"].startswith("https://login.microsoftonline.com/tenant-1/")


def test_local_does_not_need_the_variables_of_other_environments(repo_root: Path) -> None:
    assert load_config(repo_root / "toolkit.yaml", "local", environ={}).env_name == "local"


def test_dotenv_next_to_the_config_is_read_and_process_env_wins(tmp_path: Path) -> None:
    text = BASE.replace("url: https://west.openai.azure.com/openai", "url: ${WEST_URL}")
    (tmp_path / ".env").write_text("WEST_URL=https://from-dotenv.example.com\n", encoding="utf-8")
    path = _write(tmp_path, text)
    assert load_config(path, environ={}).gateway.backend("west").url == "https://from-dotenv.example.com"
    overridden = load_config(path, environ={"WEST_URL": "https://from-env.example.com"})
    assert overridden.gateway.backend("west").url == "https://from-env.example.com"


def test_a_dotenv_that_is_not_utf8_is_named_with_its_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"A=1\nWEST_URL=caf\xe9\n")
    with pytest.raises(ConfigError) as caught:
        load_config(_write(tmp_path, BASE), environ={})
    assert str(caught.value).startswith(f"{tmp_path / '.env'}:2: not UTF-8 text (byte 16: b'\\xe9')")


def test_a_dotenv_line_python_dotenv_cannot_parse_is_skipped_with_a_warning_naming_the_file(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """As python-dotenv (and the notebook) skips it; its own warning named no file. A BOM is not part of a name."""
    text = BASE.replace("url: https://west.openai.azure.com/openai", "url: ${WEST_URL}")
    (tmp_path / ".env").write_bytes("\ufeffWEST_URL=https://from-dotenv.example.com\nnot a statement\n".encode())
    with caplog.at_level("WARNING"):
        config = load_config(_write(tmp_path, text), environ={})
    assert config.gateway.backend("west").url == "https://from-dotenv.example.com"
    assert [r.getMessage() for r in caplog.records] == [
        f"{tmp_path / '.env'}:2: python-dotenv cannot parse this line; it is ignored"]


def test_default_value_syntax(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE.replace("region: West US", "region: ${WEST_REGION:-West Europe}"))
    assert load_config(path, environ={}).gateway.backend("west").region == "West Europe"


def test_overrides_deep_merge_objects_and_replace_lists(tmp_path: Path) -> None:
    text = BASE.replace(
        "  local: {target: local}",
        "  local:\n"
        "    target: local\n"
        "    overrides:\n"
        "      backends:\n"
        "        - name: east\n"
        "          circuit_breaker: {trip_duration: PT10S, status_codes: [429, 500-599]}\n"
        "      pools:\n"
        "        - name: pool\n"
        "          members: [{backend: west, weight: 100}]\n",
    )
    config = load_config(_write(tmp_path, text), environ={})
    rule = config.gateway.backend("east").circuit_breaker
    assert rule is not None
    assert rule.trip_duration == "PT10S"  # overridden
    assert (rule.count, rule.interval) == (3, "PT5M")  # kept: objects merge key by key
    assert [(r.min, r.max) for r in rule.status_codes] == [(429, 429), (500, 599)]  # list replaced
    assert config.gateway.backend("east").url == "https://east.openai.azure.com/openai"
    pool = config.gateway.pool("pool")
    assert pool is not None and [m.backend for m in pool.members] == ["west"]


def test_override_errors_point_at_the_override(tmp_path: Path) -> None:
    text = BASE.replace(
        "  local: {target: local}",
        "  local:\n    target: local\n    overrides:\n      pools:\n        - name: pool\n          members: [{backend: west, weight: 500}]\n",
    )
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert caught.value.location.line == len(text.rstrip().splitlines())  # the members line
    assert caught.value.location.field == "pools[0].members[0].weight"


def test_missing_file_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")


def test_secret_values_are_not_in_error_messages(tmp_path: Path) -> None:
    text = BASE.replace("local: {target: local}", "local: {target: local, subscription_key: '${KEY}', nonsense: 1}")
    with pytest.raises(ConfigError) as caught:
        load_config(_write(tmp_path, text), environ={"KEY": "super-secret-value"})
    assert "super-secret-value" not in str(caught.value)


DEV_VARIABLES = {
    "AZURE_SUBSCRIPTION_ID": "sub-1",
    "AZURE_RESOURCE_GROUP_NAME": "rg-1",
    "API_MANAGEMENT_SERVICE_NAME": "apim-1",
    "TENANT_ID": "tenant-1",
    "CLIENT_ID": "client-1",
}


def test_an_unset_connection_setting_fails_only_the_verb_that_needs_it(repo_root: Path) -> None:
    config = load_config(repo_root / "toolkit.yaml", "dev", environ=DEV_VARIABLES)  # no APIM_* variables
    assert config.environment.subscription_key is None and config.environment.gateway_url is None
    assert config.require("subscription_id", "service").service == "apim-1"
    with pytest.raises(ConfigError) as caught:
        config.require("gateway_url", "subscription_key")
    assert caught.value.location.field == "environments.dev.gateway_url"
    assert caught.value.location.line is not None
    assert "${APIM_BASE_URL} is not set" in caught.value.reason


def test_unset_variables_outside_connection_settings_still_fail_at_load(repo_root: Path) -> None:
    environ = {k: v for k, v in DEV_VARIABLES.items() if k != "TENANT_ID"}  # used by the dev named values
    with pytest.raises(ConfigError) as caught:
        load_config(repo_root / "toolkit.yaml", "dev", environ=environ)
    assert "${TENANT_ID} is not set" in caught.value.reason
