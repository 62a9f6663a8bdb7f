"""`toolkit demo`: the whole loop (render, lint, apply, validate all six scenarios, report) on the embedded
emulator, in a subprocess as users run it; the report it writes is opened in headless Chromium."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from toolkit.report import REPORT_FILES

CHARTS = ["latency-by-region", "latency-by-cache", "backend-shares", "breaker-timeline", "cache-distances",
          "token-consumption"]


def _demo(repo: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "toolkit", "demo", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(repo)}, timeout=600)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    repo = Path(__file__).resolve().parents[2]
    cwd = tmp_path_factory.mktemp("demo")  # an empty folder: the demo runs the sample project it was installed from
    return _demo(repo, cwd, "--format", "json", "--seed", "7"), cwd


@pytest.mark.timeout(600)
def test_demo_validates_all_six_scenarios_and_writes_the_report(demo: Any) -> None:
    result, cwd = demo
    assert result.returncode == 0, result.stderr[-3000:]
    document = json.loads(result.stdout)
    verdicts = {s["scenario"]: s["verdict"] for s in document["validation"]["scenarios"]}
    assert verdicts == dict.fromkeys(["load-balancing", "priority-failover", "circuit-breaker", "semantic-cache",
                                      "token-limit", "auth"], "pass")
    assert document["applied"] > 0 and document["lint"]["errors"] == []
    folder = cwd / "toolkit-demo-report"  # the default folder
    assert sorted(p.name for p in folder.iterdir()) == sorted(REPORT_FILES)
    assert f"report: {(folder / 'report.html').resolve()}" in result.stderr and "python3 -m webbrowser" in result.stderr
    for step in ("1/5 render", "2/5 lint", "3/5 apply", "4/5 validate", "5/5 report"):
        assert step in result.stderr
    assert f"no toolkit.yaml in this folder: running the sample project {repo_root() / 'toolkit.yaml'}" in result.stderr


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("how", ["--config", "TOOLKIT_CONFIG"])
def test_a_project_named_but_missing_is_bad_input_not_the_sample(tmp_path: Path, how: str) -> None:
    args, extra = (("--config", "mine.yaml"), {}) if how == "--config" else ((), {"TOOLKIT_CONFIG": "mine.yaml"})
    result = subprocess.run([sys.executable, "-m", "toolkit", "demo", *args], capture_output=True, text=True,
                            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(repo_root()), **extra}, timeout=120)
    assert result.returncode == 3 and "mine.yaml: config file not found" in result.stderr
    assert "sample project" not in result.stderr and not (tmp_path / "toolkit-demo-report").exists()


def test_demo_stops_on_lint_errors(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    document = yaml.safe_load((repo / "toolkit.yaml").read_text(encoding="utf-8"))
    document["apis"][0]["backend"] = "no-such-backend"
    (tmp_path / "toolkit.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    (tmp_path / "policies").symlink_to(repo / "policies")
    result = _demo(repo, tmp_path, "--report", str(tmp_path / "r"))
    assert result.returncode in (1, 3), result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "r").exists()


# --- the report in a browser ------------------------------------------------------------------------------

def chart_problems(page: str) -> list[str]:
    """What is wrong with the page's charts: a missing one, or an image that is not a drawn PNG."""
    from PIL import Image

    figures = dict(re.findall(r"<figure id='([^']+)'><img alt='[^']*' src='data:image/png;base64,([^']+)'", page))
    problems = [f"{name}: missing" for name in CHARTS if name not in figures]
    for name, data in figures.items():
        image = Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")
        if image.width < 300 or image.height < 200:
            problems.append(f"{name}: {image.width}x{image.height}")
        elif _drawn_fraction(image) < 0.02 or len(np.unique(np.asarray(image).reshape(-1, 3), axis=0)) < 16:
            problems.append(f"{name}: blank")
    return problems


def _drawn_fraction(image: Any) -> float:
    """Share of pixels that are neither white nor near-white."""
    pixels = np.asarray(image.convert("RGB")).astype(int)
    return float((pixels.min(axis=2) < 230).mean())


def _saturated_pixels(image: Any) -> int:
    """Pixels in chart colours (strongly saturated): text and tables are grey, charts are not."""
    pixels = np.asarray(image.convert("RGB")).astype(int)
    return int((pixels.max(axis=2) - pixels.min(axis=2) > 90).sum())


def _screenshot(html: Path, out: Path) -> Any:
    from PIL import Image

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed here (.ci/run installs it)")
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run",
                    f"--user-data-dir={out.parent / 'chromium-profile'}", "--window-size=1100,6000",
                    f"--screenshot={out}", html.as_uri()], capture_output=True, timeout=120, check=True)
    return Image.open(out)


def test_the_report_in_headless_chromium(demo: Any, tmp_path: Path) -> None:
    result, cwd = demo
    html = cwd / "toolkit-demo-report" / "report.html"
    page = html.read_text(encoding="utf-8")
    assert chart_problems(page) == []
    shot = _screenshot(html, tmp_path / "report.png")
    assert shot.width == 1100 and _drawn_fraction(shot.convert("RGB")) > 0.02
    with_charts = _saturated_pixels(shot)
    # The same page without its images must look different: the charts are what carries the colour.
    stripped = tmp_path / "stripped.html"
    stripped.write_text(re.sub(r"src='data:image/png;base64,[^']+'", "src=''", page), encoding="utf-8")
    without_charts = _saturated_pixels(_screenshot(stripped, tmp_path / "stripped.png"))
    assert with_charts > 20_000 > without_charts, (with_charts, without_charts)


def test_chart_check_catches_a_blank_or_missing_chart() -> None:
    from PIL import Image

    blank = io.BytesIO()
    Image.new("RGB", (800, 400), "white").save(blank, format="PNG")
    data = base64.b64encode(blank.getvalue()).decode()
    page = "".join(f"<figure id='{name}'><img alt='x' src='data:image/png;base64,{data}'>" for name in CHARTS[1:])
    problems = chart_problems(page)
    assert "latency-by-region: missing" in problems and "token-consumption: blank" in problems


def test_the_demo_reaches_the_emulator_only_over_http(repo_root: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Subscriptions, tokens and resets happen on the emulator's server threads (HTTP handlers), never as
    Python calls from the demo's own thread."""
    import threading

    from toolkit.demo import run_demo
    from toolkit.emulator.runtime import Emulator

    callers: list[str] = []
    for name in ("create_subscription", "mint_token", "reset", "areset"):
        original = getattr(Emulator, name)

        def spy(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            callers.append(threading.current_thread().name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(Emulator, name, spy)
    result = run_demo(repo_root / "toolkit.yaml", report_dir=tmp_path / "report", seed=5, say=lambda line: None)
    assert result.exit_code == 0, [v.sentence for v in result.run.verdicts]
    assert callers and threading.main_thread().name not in callers
