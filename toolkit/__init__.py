"""toolkit: an Azure API Management AI gateway as code, and proof that it behaves as configured.

The library API (names load lazily, so `toolkit --help` stays fast)::

    config = load_config("toolkit.yaml", "local")
    artifacts = render_artifacts(config.gateway, "policies")
    findings = lint_tree(artifacts)
    with local_gateway(config) as gateway:          # the emulator, with the config published to it
        ...
    run = validate(["load-balancing"], env="local")   # verdicts, and every request as a table
    write_report(run, "report/")                      # requests.csv, summary.json, junit.xml, report.md/.html
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "ArtifactSet": "toolkit.artifacts.model",
    "Emulator": "toolkit.emulator.runtime",
    "LocalGateway": "toolkit.local",
    "ToolkitError": "toolkit.errors",
    "apply_plan": "toolkit.publish",
    "connect_target": "toolkit.publish",
    "lint_path": "toolkit.lint.runner",
    "lint_tree": "toolkit.lint.runner",
    "load_config": "toolkit.config.loader",
    "load_desired": "toolkit.publish",
    "local_gateway": "toolkit.local",
    "plan_against": "toolkit.publish",
    "pull_artifacts": "toolkit.publish",
    "read_tree": "toolkit.artifacts.io",
    "render_artifacts": "toolkit.render.pipeline",
    "render_project": "toolkit.project",
    "validate": "toolkit.validate",
    "write_report": "toolkit.report",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    if name == "validate":  # the package itself, callable (see toolkit/validate/__init__.py)
        return import_module("toolkit.validate")
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'toolkit' has no attribute {name!r}")
