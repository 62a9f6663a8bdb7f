"""`toolkit render`: toolkit.yaml + policies/ -> apimartifacts/ (APIOps layout)."""

from __future__ import annotations


import click

from toolkit.cli._options import config_option, env_option, features_argument, format_option
from toolkit.cli._output import info, listing, out


@click.command("render")
@features_argument
@config_option
@env_option
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="Artifact folder (default: apimartifacts next to the config).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 and list the files that differ (a CI drift gate).")
@click.option("--apiops", is_flag=True,
              help="Write the environment-free base tree plus configuration.<env>.yaml overrides (APIOps publisher).")
@format_option("text", "json")
def cli(features: tuple[str, ...], config_path: str, env_name: str | None, out_dir: str | None, check: bool,
        apiops: bool, output_format: str = "text") -> None:
    """Render FEATURE... (default: all) into the APIOps artifact tree.

    FEATURE is one of backend-pool, circuit-breaker, retry, semantic-cache, token-limit, jwt, all.
    A feature rewrites only the files it owns; a tree with lint errors is never written.
    Writes and deletes never leave the output folder; a full render removes files of resources
    no longer in the config only when they still hold exactly what render wrote.
    """
    from toolkit.project import render_project

    outcome = render_project(config_path, env_name, features, out_dir=out_dir, check=check, apiops=apiops)
    if output_format == "json":
        from toolkit.cli._json_output import print_render

        print_render(outcome, check=check)
        raise click.exceptions.Exit(1 if outcome.lint_errors or (check and outcome.diff) else 0)
    if outcome.lint_errors:
        out(outcome.lint_report)
        info(f"refused to write {outcome.out_dir}: the rendered tree has {len(outcome.lint_errors)} lint error(s)")
        raise click.exceptions.Exit(1)
    if check:
        if outcome.diff:
            listing(f"{outcome.out_dir} is out of date; these files differ from a fresh render:", outcome.diff.paths)
            info("run `toolkit render` and commit the result")
            raise click.exceptions.Exit(1)
        info(f"{outcome.out_dir} is up to date ({len(outcome.owned)} files checked)")
        return
    if outcome.written:
        listing(f"wrote {len(outcome.written)} file(s) in {outcome.out_dir}:", outcome.written)
    if outcome.removed:
        listing(f"removed {len(outcome.removed)} file(s) no longer rendered from {outcome.out_dir}:", outcome.removed)
    unchanged = len(outcome.owned) - len([p for p in outcome.written if p in outcome.owned])
    info(f"{unchanged} file(s) unchanged; environment {outcome.env_name!r}; features: {', '.join(outcome.features)}")
