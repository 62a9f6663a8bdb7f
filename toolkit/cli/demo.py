"""`toolkit demo`: the whole loop on the local emulator, with no Azure account."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from toolkit.cli._options import config_option
from toolkit.cli._output import info


@click.command("demo")
@config_option
@click.option("--requests", "request_count", default=60, show_default=True, type=click.IntRange(10, 5000),
              help="Requests sent to show the pool's distribution.")
def cli(config_path: str, request_count: int) -> None:
    """Render, lint, publish to the local emulator through the Azure SDK, then send traffic and show
    that the gateway does what toolkit.yaml says: priorities and weights, breakers, cache, token limit.

    Uses the `local` environment; your apimartifacts/ folder is not touched. Exit 1 if a check fails.
    """
    from toolkit.demo import run_demo
    from toolkit.lint.runner import lint_path
    from toolkit.project import render_project

    with tempfile.TemporaryDirectory(prefix="toolkit-demo-") as tmp:
        target = Path(tmp) / "apimartifacts"
        info(f"1/4 render   {config_path} (environment local) -> a temporary apimartifacts/")
        outcome = render_project(config_path, "local", out_dir=target)
        if outcome.lint_errors:
            info(outcome.lint_report)
            raise click.exceptions.Exit(1)
        info(f"             {len(outcome.written)} files in the APIOps layout (backends, pool, API, policy, fragment, named values)")
        result = lint_path(target)
        info(f"2/4 lint     {len(result.errors)} error(s), {len(result.warnings)} warning(s)")
        if result.errors:
            raise click.exceptions.Exit(1)
    checks = run_demo(config_path, request_count=request_count, say=info)
    failed = [check for check in checks if not check.passed]
    info("")
    for check in checks:
        info(f"  {'PASS' if check.passed else 'FAIL'}  {check.name}: {check.detail}")
    info("")
    if failed:
        info(f"demo finished: {len(failed)} of {len(checks)} checks failed")
        raise click.exceptions.Exit(1)
    info(f"demo finished: all {len(checks)} checks passed; the gateway behaves as toolkit.yaml configures it")
