"""`toolkit lint`: APIM mistakes in any APIOps tree."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.cli._options import config_option, format_option
from toolkit.cli._output import info, out


@click.command("lint")
@click.argument("path", default="apimartifacts", type=click.Path(file_okay=False))
@format_option("text", "json", "sarif")
@click.option("--fail-severity", type=click.Choice(["error", "warning"]), default="error", show_default=True,
              help="Exit 1 when a finding at or above this severity exists (an unused suppression counts as a warning).")
@config_option
@click.pass_context
def cli(ctx: click.Context, path: str, output_format: str, fail_severity: str, config_path: str) -> None:
    """Lint the APIOps tree at PATH (default: apimartifacts).

    Works on hand-written and extracted trees too. Findings go to stdout in the chosen format;
    the exit code is 1 when a finding reaches --fail-severity. Findings accepted in the config's
    `lint: ignore:` (read when the config exists) or by a `<!-- toolkit: ignore APIMnnn reason -->`
    comment are listed as suppressed, with their reason.
    """
    from toolkit.config.lint_settings import read_lint_settings, suppressions
    from toolkit.lint.formats import to_json, to_sarif, to_text
    from toolkit.lint.runner import lint_path

    accepted = []
    explicit = ctx.get_parameter_source("config_path") is not click.core.ParameterSource.DEFAULT
    if explicit or Path(config_path).is_file():
        settings, lines = read_lint_settings(config_path)
        accepted = suppressions(settings, config_path, lines)
    result = lint_path(path, suppressions=accepted)
    formatter = {"text": to_text, "json": to_json, "sarif": to_sarif}[output_format]
    text = formatter(result)
    if text:
        out(text)
    extra = f", {len(result.suppressed)} suppressed" if result.suppressed else ""
    info(f"{len(result.errors)} error(s), {len(result.warnings)} warning(s){extra} in {path}")
    raise click.exceptions.Exit(result.exit_code(fail_severity))
