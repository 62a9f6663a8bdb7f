"""examples/ci: both pipelines validate against their published schemas (check-jsonschema's vendored copies, no
network), and the GitHub workflow's shell steps run as written against the emulator."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
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


@pytest.mark.timeout(600)
def test_the_workflow_shell_steps_run_against_the_emulator(tmp_path: Path) -> None:
    from toolkit.config import load_config
    from toolkit.emulator.runtime import Emulator

    workflow = yaml.safe_load(GITHUB.read_text(encoding="utf-8"))
    steps = _shell_steps(workflow)
    assert not [script for _, script, _ in steps if "${{" in script]  # scripts read env vars, not expressions
    work = tmp_path / "repo"
    work.mkdir()
    for name in ("toolkit.yaml", "policies", "validations", "apimartifacts"):
        (shutil.copytree if (REPO / name).is_dir() else shutil.copy)(REPO / name, work / name)
    summary = tmp_path / "step-summary.md"
    emulator = Emulator.from_config(load_config(REPO / "toolkit.yaml", "local", environ={}), seed=3).start()
    try:
        env = {**os.environ, "PYTHONPATH": str(REPO), "GITHUB_STEP_SUMMARY": str(summary),
               "TOOLKIT_ENV": "local", "TOOLKIT_SCENARIOS": "semantic-cache auth",
               "TOOLKIT_EMULATOR_URL": emulator.control_url, "TOOLKIT_EMULATOR_TOKEN": emulator.control_token}
        env.pop("TOOLKIT_MANAGEMENT_URL", None)
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # `python` is this interpreter
        for job, script, step_env in steps:
            result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                                     script.replace("python -m", f"{sys.executable} -m")],
                                    cwd=work, env={**env, **{k: v for k, v in step_env.items() if "${{" not in v}},
                                    capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, f"{job}: {script}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    finally:
        emulator.stop()
    text = summary.read_text(encoding="utf-8")
    assert "### toolkit plan (local)" in text and "create" in text  # a fresh emulator: the plan creates everything
    assert "| semantic-cache | ✅ pass |" in text and "| auth | ✅ pass |" in text
    assert (work / "validate-report" / "report.html").is_file() and (work / "plan.json").is_file()
    assert '"runs"' in (work / "lint.sarif").read_text(encoding="utf-8")
