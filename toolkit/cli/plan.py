"""`toolkit plan`: what apply would create, update or delete on the target (reads only)."""

from __future__ import annotations

import click

from toolkit.cli._options import config_option, env_option, features_argument, format_option
from toolkit.cli._output import info, out
from toolkit.cli._publish import artifacts_option, check_on_target, load_for_publish, open_target, target_options


@click.command("plan")
@features_argument
@config_option
@env_option
@format_option("text", "json")
@click.option("--out", "out_file", default=None, type=click.Path(dir_okay=False),
              help="Save the plan (with the ETags it read) for `toolkit apply --plan`.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 1 when there are changes, 0 when there are none.")
@click.option("--prune", is_flag=True, help="Plan deletes of resources the artifacts lack (whole gateway only).")
@artifacts_option
@target_options
def cli(features: tuple[str, ...], config_path: str, env_name: str | None, output_format: str, out_file: str | None,
        detailed_exitcode: bool, prune: bool, artifacts_dir: str | None, management_url: str | None,
        ca_bundle: str | None, auth: str | None) -> None:
    """Compare FEATURE... (default: all) with the live target, field by field.

    Reads every resource once; prints create / update (with the changed fields) / delete per
    resource, with secrets masked. Nothing is written.
    """
    import json
    from pathlib import Path

    from toolkit.artifacts.io import write_atomic
    from toolkit.artifacts.model import dump_json
    from toolkit.publish.plan_text import render_plan
    from toolkit.publish.workflow import plan_against

    config, desired = load_for_publish(config_path, env_name, features, artifacts_dir)
    with open_target(config, management_url, ca_bundle, auth) as target:
        check_on_target(target, desired)
        info(f"planning {desired.source} against {target.label}")
        plan = plan_against(target, desired, env=config.env_name, prune=prune)
    if out_file:
        write_atomic(Path(out_file), dump_json(plan.to_json()))
        info(f"plan saved to {out_file}; apply it with `toolkit apply --plan {out_file}`")
    out(json.dumps(plan.to_json(), indent=2) if output_format == "json" else render_plan(plan))
    if detailed_exitcode and plan.has_changes:
        raise click.exceptions.Exit(1)
