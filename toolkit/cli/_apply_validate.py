"""The `--validate` / `--rollback-on-fail` step of `toolkit apply` (kept out of apply.py: one call there)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

F = Callable[..., Any]


def validate_options(func: F) -> F:
    """--validate and --rollback-on-fail."""
    func = click.option("--rollback-on-fail", is_flag=True,
                        help="With --validate: a failed scenario restores what this apply changed (inconclusive "
                             "never does).")(func)
    return click.option("--validate", "validate_after", is_flag=True,
                        help="Run the validation scenarios of the applied features right after the writes.")(func)


def check_flags(validate_after: bool, rollback_on_fail: bool) -> None:
    if rollback_on_fail and not validate_after:
        raise click.UsageError("--rollback-on-fail needs --validate")


def snapshot_if(rollback_on_fail: bool, client: Any, plan: Any) -> Any:
    """The pre-apply state of what ``plan`` changes, when a rollback may be needed."""
    if not rollback_on_fail:
        return None
    from toolkit.validate.gate import PreApplySnapshot

    return PreApplySnapshot.take(client, plan)


def validate_applied(config: Any, features: tuple[str, ...], client: Any, snapshot: Any) -> None:
    """Prove the applied features with traffic; on fail restore ``snapshot`` (when given). Exits with the verdict."""
    from toolkit.cli._output import info, listing
    from toolkit.cli.validate import _line
    from toolkit.validate.api import validate
    from toolkit.validate.gate import scenarios_for

    import os

    if config.environment.target == "local" and not os.environ.get("TOOLKIT_EMULATOR_URL"):
        info("not validated: validation needs a running emulator (`toolkit emulator start`, then export "
             "TOOLKIT_EMULATOR_URL); this apply's in-process emulator stops with it")
        raise click.exceptions.Exit(5)
    names = scenarios_for(features)
    info(f"validating {', '.join(names)} against what was just applied")
    try:
        run = validate(names, config=config.path, env=config.env_name, on_verdict=lambda v: info(f"  {_line(v)}"))
    except KeyboardInterrupt:  # the apply is done and stands: an interrupted validation, like an inconclusive one,
        info("validation interrupted: the apply stands (an unfinished validation never rolls back)")  # never rolls back
        raise click.exceptions.Exit(130) from None
    if run.exit_code == 1 and snapshot is not None:
        outcome = snapshot.restore(client, on_event=lambda kind, text: info(f"  {kind}: {text}"))
        listing("validation failed: rolled back to the pre-apply state:", [c.ref.label for c in outcome.done])
    elif run.exit_code == 5:
        info("validation inconclusive: nothing was rolled back (inconclusive never rolls back)")
    raise click.exceptions.Exit(run.exit_code)
