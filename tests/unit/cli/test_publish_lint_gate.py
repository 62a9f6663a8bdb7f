"""load_for_publish: which lint errors wait for the target (only a foreign tree's references) and which refuse."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from toolkit.artifacts.layout import Kind
from toolkit.cli._publish import load_for_publish
from toolkit.lint.core import Finding, Severity
from toolkit.lint.runner import LintResult
from toolkit.publish.workflow import Desired

MISSING_MEMBER = Finding("APIM003", Severity.ERROR, "backends/pool/backendInformation.json", 3, "m",
                         (Kind.BACKEND, "by-bicep"))


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    path = tmp_path / "toolkit.yaml"
    path.write_text("environments:\n  local: {target: local}\n", encoding="utf-8")

    def desired(*args: object, **kwargs: object) -> Desired:
        return Desired({}, ("all",), "src", LintResult((MISSING_MEMBER,)))

    monkeypatch.setattr("toolkit.publish.workflow.load_desired", desired)
    return str(path)


def test_a_foreign_tree_s_reference_waits_for_the_target(config: str, tmp_path: Path) -> None:
    _, desired = load_for_publish(config, None, (), str(tmp_path))
    assert desired.lint.errors == [MISSING_MEMBER]


def test_a_rendered_tree_gets_no_allowance(config: str) -> None:
    with pytest.raises(click.exceptions.Exit) as caught:
        load_for_publish(config, None, (), None)
    assert caught.value.exit_code == 1


def test_an_error_without_a_target_reference_refuses_a_foreign_tree(config: str, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    plain = Finding("APIM005", Severity.ERROR, "backends/pool/backendInformation.json", 2, "url on a pool")
    monkeypatch.setattr("toolkit.publish.workflow.load_desired",
                        lambda *a, **k: Desired({}, ("all",), "src", LintResult((MISSING_MEMBER, plain))))
    with pytest.raises(click.exceptions.Exit):
        load_for_publish(config, None, (), str(tmp_path))
