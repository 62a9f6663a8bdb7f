"""`toolkit lint`: APIM mistakes in any APIOps tree."""

from __future__ import annotations

import click

from toolkit.cli._options import format_option
from toolkit.cli._output import info, out


@click.command("lint")
@click.argument("path", default="apimartifacts", type=click.Path(file_okay=False))
@format_option("text", "json", "sarif")
@click.option("--fail-severity", type=click.Choice(["error", "warning"]), default="error", show_default=True,
              help="Exit 1 when a finding at or above this severity exists.")
def cli(path: str, output_format: str, fail_severity: str) -> None:
    """Lint the APIOps tree at PATH (default: apimartifacts).

    Works on hand-written and extracted trees too. Findings go to stdout in the chosen format;
    the exit code is 1 when a finding reaches --fail-severity.
    """
    from toolkit.lint.formats import to_json, to_sarif, to_text
    from toolkit.lint.runner import lint_path

    result = lint_path(path)
    formatter = {"text": to_text, "json": to_json, "sarif": to_sarif}[output_format]
    text = formatter(result)
    if text:
        out(text)
    info(f"{len(result.errors)} error(s), {len(result.warnings)} warning(s) in {path}")
    raise click.exceptions.Exit(result.exit_code(fail_severity))
