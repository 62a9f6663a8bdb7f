"""`toolkit demo`'s loop: render, lint, start the embedded emulator, apply through the Azure SDK, validate
every scenario, write the report.

The demo has no checks of its own: its verdicts are the validation scenarios' (one source of truth), and
it reaches the emulator only over HTTP (the management API through the SDK, the gateway, the control API).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_REPORT_DIR = "toolkit-demo-report"


@dataclass
class DemoResult:
    """What each step did; ``run`` holds the verdicts, ``report`` the files written."""

    rendered: int = 0
    lint_errors: list[str] = field(default_factory=list)
    lint_warnings: int = 0
    applied: int = 0
    run: Any = None
    report: dict[str, Path] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 1 if self.lint_errors or self.run is None else int(self.run.exit_code)

    def to_json(self) -> dict[str, Any]:
        return {"exit_code": self.exit_code, "rendered": self.rendered, "lint": {"errors": self.lint_errors,
                "warnings": self.lint_warnings}, "applied": self.applied,
                "report": {name: str(path) for name, path in self.report.items()},
                "validation": self.run.to_json() if self.run is not None else None}


def run_demo(config_path: str | Path, *, report_dir: str | Path = DEFAULT_REPORT_DIR, seed: int | None = None,
             say: Callable[[str], None] = print, on_verdict: Callable[[Any], None] | None = None,
             run: Any = None) -> DemoResult:
    """The whole loop on ``config_path``'s `local` environment; apimartifacts/ is not touched."""
    from toolkit.config import load_config
    from toolkit.lint.runner import lint_path
    from toolkit.local import local_gateway
    from toolkit.project import render_project
    from toolkit.report import write_report
    from toolkit.validate.api import validate

    result = DemoResult()
    with tempfile.TemporaryDirectory(prefix="toolkit-demo-") as tmp:
        say(f"1/5 render   {config_path} (environment local) -> a temporary apimartifacts/")
        outcome = render_project(config_path, "local", out_dir=Path(tmp) / "apimartifacts")
        result.rendered = len(outcome.written)
        lint = lint_path(Path(tmp) / "apimartifacts")
        result.lint_errors = [str(finding) for finding in lint.errors] + [str(e) for e in outcome.lint_errors]
        result.lint_warnings = len(lint.warnings)
        say(f"2/5 lint     {len(result.lint_errors)} error(s), {result.lint_warnings} warning(s)")
        if result.lint_errors:
            return result
    config = load_config(config_path, "local", environ={})
    say("3/5 apply    start the embedded emulator; publish through azure-mgmt-apimanagement")
    # subscription=None: validation makes its own subscriptions through the control API, like everything else
    with local_gateway(config, seed=seed or 0, subscription=None) as gateway:
        result.applied = gateway.applied
        say(f"             {gateway.applied} resources applied; gateway {gateway.gateway_url}")
        say("4/5 validate all six scenarios with traffic through the gateway")
        result.run = validate("all", config=config_path, env="local", emulator=gateway.emulator, seed=seed,
                              environ={}, on_verdict=on_verdict, run=run)
    say(f"5/5 report   {report_dir}")
    result.report = write_report(result.run, report_dir)
    return result
