"""The root command: help, version, exit codes, tracebacks only with --debug."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

import toolkit
from toolkit.cli import root


def test_help_lists_the_verbs() -> None:
    result = CliRunner().invoke(root, ["--help"])
    assert result.exit_code == 0
    for verb in ("render", "lint", "demo"):
        assert verb in result.output


def test_version() -> None:
    result = CliRunner().invoke(root, ["--version"])
    assert result.exit_code == 0 and toolkit.__version__ in result.output


def test_usage_error_is_2() -> None:
    assert CliRunner().invoke(root, ["render", "--no-such-flag"]).exit_code == 2
    assert CliRunner().invoke(root, ["no-such-verb"]).exit_code == 2


@pytest.mark.parametrize("debug", [False, True])
def test_bug_is_70_with_traceback_only_on_debug(monkeypatch: pytest.MonkeyPatch, debug: bool) -> None:
    import toolkit.project

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(toolkit.project, "render_project", broken)
    args = (["--debug"] if debug else []) + ["render"]
    result = CliRunner().invoke(root, args)
    assert result.exit_code == 70
    assert "internal error (ZeroDivisionError): boom" in result.output
    assert ("Traceback" in result.output) is debug


def test_help_imports_nothing_heavy() -> None:
    code = (
        "import sys; from toolkit.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('azure', 'pandas', 'matplotlib', 'numpy', 'onnxruntime', 'starlette', 'lxml', 'httpx', 'jinja2', 'pydantic')"
        " if m in sys.modules]\nprint(heavy)"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip().endswith("[]"), output
