"""Environments other than the selected one: their ${VAR}s stay unexpanded, yet they are validated for shape
as they would be typed if selected (defaults applied, unquoted values typed as YAML, quoted ones kept as text)."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.config import load_config
from toolkit.errors import ConfigError

BASE = (Path(__file__).parents[2] / "fixtures" / "config" / "valid-base.yaml").read_text(encoding="utf-8")
LOCAL = "  local: {target: local}"


def _load_local(tmp_path: Path, dev: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "toolkit.yaml"
    path.write_text(BASE.replace(LOCAL, LOCAL + "\n  dev:\n" + dev), encoding="utf-8")
    return load_config(path, "local", environ={})


def test_unset_variables_of_another_environment_are_placeholders_naming_them(tmp_path: Path) -> None:
    dev = _load_local(tmp_path, "    target: azure\n"
                                "    subscription_id: ${SUB}\n"
                                "    resource_group: ${RG:-rg-default}\n"
                                "    service: apim-${NAME}-${REGION:-eu}\n"
                                "    overrides:\n"
                                "      pools:\n"
                                "        - name: pool\n"
                                "          members:\n"
                                "            - backend: '${B}'\n"
                                "              weight: ${W:-50}\n"
                                ).gateway.environments["dev"]
    assert (dev.subscription_id, dev.resource_group, dev.service) == ("unset-SUB", "rg-default", "apim-unset-NAME-eu")
    assert dev.overrides == {"pools": [{"name": "pool", "members": [{"backend": "unset-B", "weight": 50}]}]}


def test_a_quoted_default_in_another_environment_stays_text(tmp_path: Path) -> None:
    dev = _load_local(tmp_path, "    target: local\n    service: '${SVC:-123}'\n").gateway.environments["dev"]
    assert dev.service == "123"


def test_an_unquoted_default_in_another_environment_is_typed_and_checked(tmp_path: Path) -> None:
    """``service: ${SVC:-123}`` would be the number 123 once dev is selected: refused now, not only then."""
    with pytest.raises(ConfigError) as caught:
        _load_local(tmp_path, "    target: local\n    service: ${SVC:-123}\n")
    assert caught.value.location.field == "environments.dev.service"
    assert "valid string" in caught.value.reason
