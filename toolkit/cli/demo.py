"""`toolkit demo`: the whole loop on the local emulator, with no Azure account."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from toolkit.cli._options import config_option
from toolkit.cli._output import info


@click.command("demo")
@config_option
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="Where to render the demo tree (default: a temporary folder).")
def cli(config_path: str, out_dir: str | None) -> None:
    """Render the sample gateway, lint it, and report each step.

    Uses the `local` environment of toolkit.yaml; your apimartifacts/ folder is not touched.
    """
    from toolkit.lint.runner import lint_path
    from toolkit.project import render_project

    with tempfile.TemporaryDirectory(prefix="toolkit-demo-") as tmp:
        target = Path(out_dir) if out_dir else Path(tmp) / "apimartifacts"
        info(f"1/2 render  {config_path} (environment local) -> {target}")
        outcome = render_project(config_path, "local", out_dir=target)
        if outcome.lint_errors:
            info(outcome.lint_report)
            raise click.exceptions.Exit(1)
        for path in outcome.written:
            info(f"      wrote {path}")
        info("2/2 lint    the rendered tree")
        result = lint_path(target)
        info(f"      {len(result.errors)} error(s), {len(result.warnings)} warning(s)")
        for finding in result.findings:
            info(f"      {finding.code} {finding.severity.value} {finding.file}:{finding.line} {finding.message}")
        info("demo finished: the sample gateway renders and lints clean")
        raise click.exceptions.Exit(result.exit_code("error"))
