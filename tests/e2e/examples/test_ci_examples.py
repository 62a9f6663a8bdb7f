"""examples/ci: both pipelines validate against their published schemas (check-jsonschema's vendored copies, no
network), and the GitHub workflow's shell steps run as written against the emulator."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
GITHUB = REPO / "examples" / "ci" / "github-actions.yml"
AZURE = REPO / "examples" / "ci" / "azure-pipelines.yml"
# The current major of each action the workflow uses.
MAJORS = {"actions/checkout": "v6", "actions/setup-python": "v6", "actions/upload-artifact": "v7",
          "azure/login": "v3", "github/codeql-action/upload-sarif": "v4"}


def _schema_check(path: Path, schema: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--regex-variant", "python",
                           "--builtin-schema", schema, str(path)], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("path", "schema"), [(GITHUB, "vendor.github-workflows"), (AZURE, "vendor.azure-pipelines")])
def test_pipeline_follows_its_published_schema(path: Path, schema: str, tmp_path: Path) -> None:
    result = _schema_check(path, schema)
    assert result.returncode == 0, result.stdout + result.stderr
    broken = yaml.safe_load(path.read_text(encoding="utf-8"))
    if "jobs" in broken:
        broken["jobs"]["check"]["steps"][0]["uzes"] = broken["jobs"]["check"]["steps"][0].pop("uses")
    else:
        broken["stages"][0]["jobz"] = broken["stages"][0].pop("jobs")
    (tmp_path / path.name).write_text(yaml.safe_dump(broken), encoding="utf-8")
    assert _schema_check(tmp_path / path.name, schema).returncode == 1


def test_workflow_uses_the_current_major_of_each_action() -> None:
    workflow = yaml.safe_load(GITHUB.read_text(encoding="utf-8"))
    used = {step["uses"] for job in workflow["jobs"].values() for step in job["steps"] if "uses" in step}
    assert used == {f"{action}@{major}" for action, major in MAJORS.items()}


def test_workflow_documents_oidc_and_the_federated_subjects() -> None:
    text = GITHUB.read_text(encoding="utf-8")
    for subject in (":pull_request", ":ref:refs/heads/main", ":environment:dev"):
        assert f"repo:<owner>/<repo>{subject}" in text
    assert "id-token: write" in text and "api://AzureADTokenExchange" in text
    assert "workload identity" in AZURE.read_text(encoding="utf-8").lower()


def _shell_steps(workflow: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    """(job, script, env) of every `run:` step, jobs in file order; installing the package is skipped (the test
    runs this tree's toolkit)."""
    steps = []
    for name, job in workflow["jobs"].items():
        for step in job["steps"]:
            script = step.get("run")
            if script and not script.startswith("python -m pip install"):
                steps.append((name, script, {**job.get("env", {}), **step.get("env", {})}))
    return steps


def _pipeline_steps(pipeline: dict[str, Any], macros: dict[str, str]) -> list[tuple[str, str, dict[str, str]]]:
    """(stage, script, env) of every `script` step and AzureCLI@2 inline script, `$(macro)`s expanded."""
    steps = []
    for stage in pipeline["stages"]:
        for job in stage["jobs"]:
            job_steps = job.get("steps") or job["strategy"]["runOnce"]["deploy"]["steps"]
            for step in job_steps:
                script = step.get("script") or step.get("inputs", {}).get("inlineScript")
                if script and not script.startswith("python -m pip install"):
                    for macro, value in macros.items():
                        script = script.replace(f"$({macro})", value)
                    steps.append((stage["stage"], script, {}))
    return steps


def _run_steps(steps: list[tuple[str, str, dict[str, str]]], work: Path, env: dict[str, str]) -> None:
    for job, script, step_env in steps:
        assert "${{" not in script and "$(" not in script.replace("$(cat", "")  # only env vars left
        result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                                 script.replace("python -m", f"{sys.executable} -m")],
                                cwd=work, env={**env, **{k: v for k, v in step_env.items() if "${{" not in v}},
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"{job}: {script}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A copy of the repository's gateway files, and the environment of a CI job pointed at a fresh emulator
    (environment `local`: the same steps that target `dev` on Azure)."""
    from toolkit.config import load_config
    from toolkit.emulator.runtime import Emulator

    work = tmp_path / "repo"
    work.mkdir()
    for name in ("toolkit.yaml", "policies", "validations", "apimartifacts"):
        (shutil.copytree if (REPO / name).is_dir() else shutil.copy)(REPO / name, work / name)
    emulator = Emulator.from_config(load_config(REPO / "toolkit.yaml", "local", environ={}), seed=3).start()
    try:
        env = {**os.environ, "PYTHONPATH": str(REPO), "TOOLKIT_ENV": "local", "TOOLKIT_SCENARIOS": "semantic-cache auth",
               "TOOLKIT_EMULATOR_URL": emulator.control_url, "TOOLKIT_EMULATOR_TOKEN": emulator.control_token}
        env.pop("TOOLKIT_MANAGEMENT_URL", None)
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # `python` is this interpreter
        yield work, env
    finally:
        emulator.stop()


@pytest.mark.timeout(600)
def test_the_workflow_shell_steps_run_against_the_emulator(project: tuple[Path, dict[str, str]]) -> None:
    work, env = project
    summary = work.parent / "step-summary.md"
    _run_steps(_shell_steps(yaml.safe_load(GITHUB.read_text(encoding="utf-8"))), work,
               {**env, "GITHUB_STEP_SUMMARY": str(summary)})
    text = summary.read_text(encoding="utf-8")
    assert "### toolkit plan (local)" in text and "create" in text  # a fresh emulator: the plan creates everything
    assert "| semantic-cache | ✅ pass |" in text and "| auth | ✅ pass |" in text
    assert (work / "validate-report" / "report.html").is_file() and (work / "plan.json").is_file()
    assert '"runs"' in (work / "lint.sarif").read_text(encoding="utf-8")


@pytest.mark.timeout(600)
def test_the_pipeline_scripts_run_against_the_emulator(project: tuple[Path, dict[str, str]]) -> None:
    work, env = project
    staging = work.parent / "staging"
    steps = _pipeline_steps(yaml.safe_load(AZURE.read_text(encoding="utf-8")),
                            {"Build.ArtifactStagingDirectory": str(staging), "System.DefaultWorkingDirectory": str(work)})
    assert [stage for stage, _, _ in steps] == ["check", "check", "plan", "deploy", "deploy"]
    _run_steps(steps, work, env)
    assert "### toolkit plan (local)" in (work / "plan.md").read_text(encoding="utf-8")
    assert '"runs"' in (staging / "CodeAnalysisLogs" / "lint.sarif").read_text(encoding="utf-8")
    assert (work / "validate-report" / "junit.xml").is_file()
