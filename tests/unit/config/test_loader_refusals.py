"""load_config's own refusals name the file, the line, the field and the reason exactly; the default environment.

(Mutation gaps of config/loader.py: every refusal here survived a changed message, line or field.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.config import load_config
from toolkit.errors import ConfigError

BASE = (Path(__file__).parents[2] / "fixtures" / "config" / "valid-base.yaml").read_text(encoding="utf-8")
LOCAL = "  local: {target: local}"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "toolkit.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _refusal(path: Path, env: str | None = None, environ: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(path, env, environ={} if environ is None else environ)
    return caught.value


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def test_a_missing_file_is_named_with_a_hint(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    error = _refusal(missing)
    assert (error.location.file, error.reason) == (str(missing), "config file not found")
    assert error.hint == "run from the project folder or pass --config"


def test_an_unreadable_file_is_named_with_the_reason(tmp_path: Path) -> None:
    error = _refusal(tmp_path)  # a folder, not a file
    assert error.location.file == str(tmp_path)
    assert error.reason.startswith("cannot read: ") and "directory" in error.reason.lower()
    not_utf8 = tmp_path / "latin1.yaml"
    not_utf8.write_bytes("apis: []\nenvironments: {local: {target: local}}\n# caf\u00e9\n".encode("latin-1"))
    error = _refusal(not_utf8)
    assert error.location.file == str(not_utf8) and error.location.line == 3
    assert error.reason == "not UTF-8 text (byte 53: b'\\xe9')"


def test_a_top_level_that_is_not_a_mapping_points_at_where_it_starts(tmp_path: Path) -> None:
    path = _write(tmp_path, "# toolkit config\n\n- apis\n- backends\n")
    error = _refusal(path)
    assert error.reason == "the top level must be a mapping of sections (apis, backends, pools, environments)"
    assert (error.location.file, error.location.line) == (str(path), 3)


def test_an_empty_file_asks_for_an_environment(tmp_path: Path) -> None:
    error = _refusal(_write(tmp_path, "# nothing yet\n"))
    assert error.reason == "define at least one environment (e.g. local: {target: local})"
    assert error.location.field == "environments"


def test_an_empty_environments_section_is_refused_at_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE.replace(LOCAL, "").replace("environments:", "environments: {}"))
    error = _refusal(path)
    assert error.reason == "define at least one environment (e.g. local: {target: local})"
    assert (error.location.file, error.location.line, error.location.field) == (
        str(path), _line_of(path, "environments: {}"), "environments")


def test_a_config_without_environments_is_refused_at_the_top_of_the_document(tmp_path: Path) -> None:
    path = _write(tmp_path, "\n# shared sections only\n" + BASE.replace("environments:\n" + LOCAL, ""))
    error = _refusal(path)
    assert (error.location.line, error.location.field) == (3, "environments")


def test_an_unknown_environment_lists_the_defined_ones(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE.replace(LOCAL, LOCAL + "\n  dev: {target: local}"))
    error = _refusal(path, "prod")
    assert error.reason == "unknown environment 'prod' (defined: local, dev)"
    assert (error.location.line, error.location.field) == (_line_of(path, "environments:"), "environments")


def test_the_default_environment_is_local_wherever_it_is_declared(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE.replace(LOCAL, "  dev: {target: local}\n" + LOCAL))
    assert load_config(path, environ={}).env_name == "local"
    assert load_config(path, "dev", environ={}).env_name == "dev"


def test_without_local_the_only_environment_is_the_default(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE.replace(LOCAL, "  staging: {target: local}"))
    assert load_config(path, environ={}).env_name == "staging"


def test_an_unset_variable_says_how_to_set_it(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE.replace("region: West US", "region: ${WEST_REGION}"))
    error = _refusal(path)
    assert (error.reason, error.location.field) == ("${WEST_REGION} is not set", "backends[1].region")
    assert error.location.line == _line_of(path, "${WEST_REGION}")
    assert error.hint is not None and "export WEST_REGION=..." in error.hint and "${WEST_REGION:-default}" in error.hint


def test_a_control_character_from_a_variable_is_refused_at_its_field(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE.replace("region: West US", "region: ${WEST_REGION}"))
    error = _refusal(path, environ={"WEST_REGION": "West\x07US"})
    assert error.reason == "the text holds the control character U+0007"
    assert (error.location.line, error.location.field) == (_line_of(path, "${WEST_REGION}"), "backends[1].region")


def test_an_environment_written_as_one_variable_is_interpolated_and_checked(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE.replace(LOCAL, "  local: ${LOCAL_ENV}"))
    error = _refusal(path)
    assert (error.reason, error.location.field) == ("${LOCAL_ENV} is not set", "environments.local")
    assert error.location.line == _line_of(path, "${LOCAL_ENV}")


def test_a_connection_setting_is_checked_for_shape_even_when_its_variable_is_unset(tmp_path: Path) -> None:
    """Deferring an unset ${VAR} must not hide a setting of the wrong shape (a mapping where text is expected)."""
    path = _write(tmp_path, BASE.replace(LOCAL, "  local:\n    target: local\n    subscription_id:\n      id: ${SUB}"))
    error = _refusal(path)
    assert error.location.field == "environments.local.subscription_id"
    assert "valid string" in error.reason
    assert load_config(_write(tmp_path, BASE.replace(LOCAL, "  local: {target: local, subscription_id: '${SUB}'}")),
                       environ={}).environment.subscription_id is None


def test_an_override_item_that_is_not_a_mapping_is_refused_at_the_override(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE.replace(LOCAL, "  local:\n    target: local\n    overrides:\n"
                                                "      backends:\n        - just-a-name\n"))
    error = _refusal(path)
    assert error.location.field == "backends[3]"  # appended after the three base backends
    assert error.location.line == _line_of(path, "- just-a-name")


def test_a_refused_value_from_a_variable_is_not_echoed_but_a_written_one_is(tmp_path: Path) -> None:
    """A secret interpolated into the wrong field (weight: ${KEY}) must not reach a CI log through the refusal."""
    secret = "sk-live-0123456789abcdef"
    from_variable = _write(tmp_path, BASE.replace("weight: 50}", "weight: \"${KEY}\"}", 1))
    error = _refusal(from_variable, environ={"KEY": secret})
    assert secret not in str(error) and "0123456789" not in str(error)
    assert "the value of a ${VAR}, not shown" in str(error)
    assert (error.location.line, error.location.field) == (21, "pools[0].members[0].weight")
    written = _write(tmp_path, BASE.replace("weight: 50}", "weight: fifty}", 1))
    assert "'fifty'" in str(_refusal(written))


def test_a_refused_secret_field_written_in_the_file_is_not_echoed(tmp_path: Path) -> None:
    """auth.api_key of the wrong type (a number): the key itself is in toolkit.yaml, and still never printed."""
    written = _write(tmp_path, BASE.replace("    region: West US\n", "    region: West US\n"
                                                                   "    auth: {api_key: 12345678901234567890}\n", 1))
    error = _refusal(written)
    assert "1234567890" not in str(error)
    assert "the value of a secret field, not shown" in str(error)
    assert error.location.field == "backends[1].auth.api_key"


def test_a_refused_named_value_is_not_echoed(tmp_path: Path) -> None:
    written = _write(tmp_path, BASE.replace("environments:\n", "named_values:\n"
                                                              "  - {name: s, value: 987654321987, secret: true}\n"
                                                              "environments:\n", 1))
    error = _refusal(written)
    assert "987654321987" not in str(error) and "the value of a secret field, not shown" in str(error)
    assert error.location.field == "named_values[0].value"


def test_a_config_that_is_not_utf8_or_holds_a_control_character_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "toolkit.yaml"
    path.write_bytes(BASE.encode() + b"# caf\xe9\n")
    error = _refusal(path)
    assert str(error).startswith(f"{path}:{BASE.count(chr(10)) + 1}: not UTF-8 text (byte {len(BASE.encode()) + 5}: b'\\xe9')")
    path.write_text(BASE + 'x: "a\x01b"\n', encoding="utf-8")
    error = _refusal(path)
    assert str(error).startswith(f"{path}:{BASE.count(chr(10)) + 1}: not valid YAML: character #x0001 is not allowed")


def test_a_region_that_is_not_ascii_is_refused_at_load(tmp_path: Path) -> None:
    """Found by an audit: 'East ü' was accepted, then validate crashed (exit 70) matching it to a header."""
    error = _refusal(_write(tmp_path, BASE.replace("region: West US", "region: West ü", 1)))
    assert error.location.field == "backends[1].region" and "printable ASCII" in str(error)



def test_an_unreadable_dotenv_file_is_named_with_the_reason(tmp_path: Path) -> None:
    import logging

    from toolkit.config.loader import _dotenv_values

    with pytest.raises(ConfigError) as caught:  # load_config reads .env only when it is a file; it can still fail
        _dotenv_values(tmp_path)
    assert (caught.value.location.file, caught.value.reason) == (str(tmp_path), "cannot read (Is a directory)")
    path = _write(tmp_path, BASE)
    (tmp_path / ".env").write_text("GOOD=1\nthis line is not dotenv\n", encoding="utf-8")
    load_config(path, "local", environ={})
    assert logging.getLogger("dotenv.main").filters == []  # python-dotenv's warnings are collected during the read only
