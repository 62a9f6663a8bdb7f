"""Every registered rule is documented, lives in its own module, and has passing and failing cases."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import toolkit.lint.rules as rules_package
from toolkit.lint.core import Rule, Severity
from toolkit.lint.registry import BUILTIN_RULES, REGISTRY, all_rules, build_registry, get_rule

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rules"
RULES_DIR = Path(rules_package.__file__).parent


@pytest.mark.parametrize("rule", list(REGISTRY.values()), ids=list(REGISTRY))
def test_rule_is_documented(rule: type[Rule]) -> None:
    assert re.fullmatch(r"APIM\d{3}", rule.code)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name), "name is kebab-case"
    assert isinstance(rule.severity, Severity)
    assert rule.summary.strip()
    assert rule.__module__ == f"toolkit.lint.rules.{rule.code}_{rule.name.replace('-', '_')}"
    assert (RULES_DIR / f"{rule.module_name()}.py").is_file()
    doc = rule.description()
    assert doc.splitlines()[0].strip(), "one-line summary first"
    anti, best = doc.find("Anti-pattern"), doc.find("Best practice")
    assert 0 < anti < best, "Anti-pattern, then Best practice"
    assert doc[anti + len("Anti-pattern") : best].strip(": \n"), "the bad form is shown"
    assert doc[best + len("Best practice") :].strip(": \n"), "the good form is shown"


@pytest.mark.parametrize("rule", list(REGISTRY.values()), ids=list(REGISTRY))
def test_rule_has_failing_and_passing_cases(rule: type[Rule]) -> None:
    path = FIXTURES / f"{rule.code}.yaml"
    assert path.is_file(), f"missing {path}"
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert all({"name", "files", "expect"} <= set(case) for case in cases)
    assert any(case["expect"] for case in cases), "at least one failing case"
    assert any(not case["expect"] for case in cases), "at least one passing case"


def test_every_rule_module_and_case_file_is_registered() -> None:
    modules = {path.stem for path in RULES_DIR.glob("APIM*.py")}
    assert modules == {rule.module_name() for rule in REGISTRY.values()}
    assert {path.stem for path in FIXTURES.glob("APIM*.yaml")} == set(REGISTRY)


def test_registry_is_ordered_and_unique() -> None:
    assert list(REGISTRY) == sorted(REGISTRY)
    assert len({rule.name for rule in BUILTIN_RULES}) == len(BUILTIN_RULES)
    assert [type(rule) for rule in all_rules()] == list(REGISTRY.values())
    assert get_rule("apim001") is REGISTRY["APIM001"]


def test_duplicate_and_malformed_codes_are_rejected() -> None:
    first = BUILTIN_RULES[1]

    class Copy(Rule):
        code = first.code
        name = "copy"

    class Bad(Rule):
        code = "APIM1"
        name = "bad"

    with pytest.raises(ValueError, match=f"duplicate lint rule code {first.code}"):
        build_registry([first, Copy])
    with pytest.raises(ValueError, match="does not match"):
        build_registry([Bad])
