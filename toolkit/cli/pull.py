"""`toolkit pull`: the live state of an APIM instance as an APIOps tree."""

from __future__ import annotations

import click

from toolkit.cli._options import config_option, env_option
from toolkit.cli._output import info, listing
from toolkit.cli._publish import open_target, target_options


@click.command("pull")
@config_option
@env_option
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder to write the APIOps tree to.")
@click.option("--clean", is_flag=True, help="Also remove artifact files in --out that are no longer on the target.")
@target_options
def cli(config_path: str, env_name: str | None, out_dir: str, clean: bool, management_url: str | None,
        ca_bundle: str | None, auth: str | None) -> None:
    """Write every named value, backend, fragment, version set, API and policy of the target into --out.

    Like the APIOps extractor: secret named values are written without their value. Inspect drift
    with `toolkit lint OUT` and `toolkit plan --artifacts OUT`.
    """
    from pathlib import Path

    from toolkit.artifacts.io import read_tree, write_tree
    from toolkit.project import Project
    from toolkit.publish.pull import pull_artifacts

    config = Project.at(config_path).load(env_name)
    with open_target(config, management_url, ca_bundle, auth) as target:
        info(f"pulling {target.label}")
        artifacts = pull_artifacts(target.client)
    stale = set(read_tree(out_dir).paths()) - set(artifacts.paths()) if Path(out_dir).is_dir() else set()
    changed = write_tree(out_dir, artifacts, remove=stale if clean else None)
    removed = sorted(set(changed) & stale) if clean else []
    written = [path for path in changed if path not in removed]
    if written:
        listing(f"wrote {len(written)} file(s) in {out_dir}:", written)
    if removed:
        listing(f"removed {len(removed)} file(s) not on the target from {out_dir}:", removed)
    if stale and not clean:
        listing(f"{len(stale)} file(s) in {out_dir} are not on the target (--clean removes them):", sorted(stale))
    info(f"{len(artifacts)} artifact file(s) on the target, {len(changed)} file(s) changed in {out_dir}")
