"""`toolkit apply`: publish the artifacts in dependency order, with ETag checks and rollback."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from toolkit.cli._apply_validate import check_flags, snapshot_if, validate_applied, validate_options
from toolkit.cli._interrupt import graceful_stop, sigterm_stops
from toolkit.cli._options import config_option, env_option, features_argument, format_option
from toolkit.cli._output import info, listing, out
from toolkit.cli._publish import artifacts_option, check_on_target, load_for_publish, open_target, target_options

if TYPE_CHECKING:
    from toolkit.publish.apply import ApplyOutcome
    from toolkit.publish.plan import Plan

DEFAULT_PARALLEL_WRITES = 4  # concurrent writes per dependency level (toolkit.publish.apply_plan's ``parallel``)


def _interactive() -> bool:
    """Whether a person can answer the confirmation prompt."""
    return sys.stdin.isatty()


@click.command("apply")
@features_argument
@config_option
@env_option
@click.option("--plan", "plan_file", default=None, type=click.Path(dir_okay=False, exists=True),
              help="Apply this saved plan (from `toolkit plan --out`); refused if the target or artifacts changed since.")
@click.option("--yes", "-y", "assume_yes", is_flag=True, help="Do not ask for confirmation (needed without a terminal).")
@click.option("--prune", is_flag=True, help="Also delete resources the artifacts lack (whole gateway only).")
@click.option("--dry-run", is_flag=True, help="Show the plan and stop: nothing is written.")
@click.option("--parallel", type=click.IntRange(1, 16), default=DEFAULT_PARALLEL_WRITES, show_default=True,
              help="Write up to N independent resources of one dependency level at once (1: one by one).")
@artifacts_option
@target_options
@validate_options
@format_option("text", "json")
@sigterm_stops
def cli(features: tuple[str, ...], config_path: str, env_name: str | None, plan_file: str | None, assume_yes: bool,
        prune: bool, dry_run: bool, parallel: int, artifacts_dir: str | None, management_url: str | None, ca_bundle: str | None,
        auth: str | None, validate_after: bool = False, rollback_on_fail: bool = False,
        output_format: str = "text") -> None:
    """Publish FEATURE... (default: all) to the target.

    Renders and lints first, shows the plan, asks for confirmation (unless --yes), then writes in
    dependency order: named values, single backends, pools, fragments, version sets, APIs, policies. Deletes only
    with --prune (in reverse order). If a write fails, everything already written is restored
    (except what another writer changed meanwhile: that is left alone and listed). The first Ctrl-C
    or SIGTERM stops after the writes in flight and rolls back (exit 130 when the target is as before);
    a second one stops at once and lists what is left changed (exit 4).
    With --validate the matching scenarios run right after (exit as `toolkit validate`); with
    --rollback-on-fail a failed scenario restores the pre-apply state.
    """
    from toolkit.cli._json_output import print_apply
    from toolkit.publish.apply import ApplyFailed, apply_plan
    from toolkit.publish.retry import abandon_waits
    from toolkit.publish.plan_text import render_plan
    from toolkit.publish.workflow import check_saved_plan, plan_against

    saved = _read_plan(plan_file) if plan_file else None
    if saved is not None:
        features, env_name = _reconcile(saved, features, env_name, prune)
    config, desired = load_for_publish(config_path, env_name, features, artifacts_dir)
    check_flags(validate_after, rollback_on_fail)
    with open_target(config, management_url, ca_bundle, auth) as target:
        check_on_target(target, desired)
        if saved is not None:
            check_saved_plan(saved, desired, target)
            plan = saved
        else:
            info(f"planning {desired.source} against {target.label}")
            plan = plan_against(target, desired, env=config.env_name, prune=prune)
        as_json = output_format == "json"
        if not as_json:
            out(render_plan(plan))
        if not plan.has_changes:
            info("Nothing to apply.")
            if as_json:
                print_apply(plan, target.label)
            if validate_after:
                validate_applied(config, features, target.client, None)
            return
        if dry_run:
            info("Dry run: nothing was written.")
            if as_json:
                print_apply(plan, target.label, dry_run=True)
            return
        _confirm(len(plan.actions), target.label, assume_yes)
        snapshot = snapshot_if(rollback_on_fail, target.client, plan)
        try:
            with graceful_stop("rolling back what was written", abandon=abandon_waits) as stop:
                outcome = apply_plan(target.client, plan, desired.resources, stop=stop, parallel=parallel,
                                     on_event=lambda kind, text: info(f"  {kind}: {text}"))
        except ApplyFailed as exc:
            _report_rollback(exc.outcome)
            if as_json:  # stdout stays one object, failed or not
                print_apply(plan, target.label, outcome=exc.outcome, failed=True)
            raise
        info(f"Applied {len(outcome.done)} change(s) to {target.label} ({outcome.writes} write call(s)).")
        if as_json:
            print_apply(plan, target.label, outcome=outcome)
        if validate_after:  # inside the block: a rollback writes through the same client
            validate_applied(config, features, target.client, snapshot)


def _report_rollback(outcome: ApplyOutcome) -> None:
    """What the rollback undid, what another writer changed (left alone), and what this apply left changed."""
    if outcome.restored:
        listing("rolled back:", outcome.restored)
    if outcome.changed_by_others:
        listing("changed by another writer during the apply, not restored (left as they made it):",
                outcome.changed_by_others)
    if outcome.unrestored:
        listing("NOT restored, left changed by this apply (fix by hand, then run `toolkit plan`):",
                [f"{label}: {reason}" for label, reason in outcome.unrestored])


def _read_plan(path: str) -> Plan:
    from toolkit.publish.plan_file import read_plan_file

    return read_plan_file(path)


def _reconcile(saved: Plan, features: tuple[str, ...], env_name: str | None,
               prune: bool) -> tuple[tuple[str, ...], str | None]:
    """The features and environment of a saved plan; flags that contradict it are usage errors."""
    if features and tuple(features) != tuple(saved.features):
        raise click.UsageError(f"the plan covers {', '.join(saved.features)}; drop the FEATURE arguments")
    if env_name and saved.env and env_name != saved.env:
        raise click.UsageError(f"the plan is for environment {saved.env!r}, not {env_name!r}")
    from toolkit.publish.plan import Op

    deletes = sum(1 for change in saved.actions if change.op is Op.DELETE)
    if deletes and not prune:
        raise click.UsageError(f"the plan deletes {deletes} resource(s): pass --prune to apply it")
    if prune and not saved.prune:
        raise click.UsageError("the plan was made without --prune: run `toolkit plan --prune --out PLAN` first")
    return tuple(saved.features), env_name or saved.env or None


def _confirm(count: int, target: str, assume_yes: bool) -> None:
    if assume_yes:
        return
    if not _interactive():
        raise click.UsageError("no terminal to confirm on: pass --yes to apply without a prompt")
    if not click.confirm(f"Apply {count} change(s) to {target}?", default=False, err=True):
        info("Cancelled: nothing was written.")
        raise click.exceptions.Exit(1)
