"""`toolkit validate`: send traffic to the deployed gateway and judge it against the configuration."""

from __future__ import annotations

import json

import click

from toolkit.cli._engine import engine_options
from toolkit.cli._options import config_option, env_option, format_option
from toolkit.cli._output import info, out
from toolkit.cli._validate_report import report_options

SCENARIO_CHOICES = ("all", "load-balancing", "priority-failover", "circuit-breaker", "semantic-cache",
                    "token-limit", "auth")


@click.command("validate")
@click.argument("scenarios", nargs=-1, type=click.Choice(SCENARIO_CHOICES), metavar="[SCENARIO...|all]")
@config_option
@env_option
@click.option("--artifacts", "artifacts_dir", default=None, type=click.Path(file_okay=False, exists=True),
              help="Expect what this APIOps tree says instead of toolkit.yaml rendered for the environment.")
@click.option("--validations", "validations_dir", default=None, type=click.Path(file_okay=False, exists=True),
              help="Folder of scenario files (default: validations/ beside the config).")
@click.option("--seed", type=int, default=None, help="Seed for prompt order and nonces (reproducible runs).")
@format_option("text", "json")
@click.option("--max-requests", type=click.IntRange(10, 100_000), default=None,
              help="Cap each scenario's requests (fewer requests: more inconclusive verdicts).")
@click.option("--allow-quota-burn", is_flag=True,
              help="On Azure, let priority-failover exhaust the deployments' tokens-per-minute to take them out.")
@report_options
@engine_options("Locust users for load-balancing and priority-failover (default 4 per worker).")
def cli(scenarios: tuple[str, ...], config_path: str, env_name: str | None, artifacts_dir: str | None,
        validations_dir: str | None, seed: int | None, output_format: str, max_requests: int | None,
        allow_quota_burn: bool, report_dir: str | None, junit_file: str | None, engine: str, users: int | None,
        workers: int) -> None:
    """Prove with traffic that the gateway behaves as toolkit.yaml says. It never publishes.

    SCENARIO: load-balancing, priority-failover, circuit-breaker, semantic-cache, token-limit, auth
    (default: all). The target is the environment's: the emulator named by TOOLKIT_EMULATOR_URL, or APIM
    on Azure (gateway_url, subscription_key). Exit 0 all pass, 1 any fail, 5 any inconclusive (none failed).
    """
    from toolkit.cli._interrupt import shielded, sigterm_as_interrupt
    from toolkit.cli._validate_report import (Progress, check_report_places, mark_interrupted, new_run, terminal,
                                              write_reports)
    from toolkit.validate.api import validate
    from toolkit.validate.runner import expand

    names = expand(scenarios or ("all",))
    check_report_places(report_dir, junit_file)
    progress = Progress(names, live=terminal(), line=_line, quiet=output_format != "text")
    run = new_run(progress.request)
    try:
        with sigterm_as_interrupt(), progress.shown():
            validate(names, config=config_path, env=env_name, artifacts=artifacts_dir, validations=validations_dir,
                     seed=seed, max_requests=max_requests, allow_quota_burn=allow_quota_burn,
                     on_verdict=progress.verdict, run=run, engine=engine, users=users, workers=workers)
    except KeyboardInterrupt:
        reason = mark_interrupted(run, names)
        with shielded():  # a second Ctrl-C must not leave half a report, or none
            write_reports(run, report_dir, junit_file, interrupted=reason)
        if output_format == "json":  # the verdicts so far, as a complete run prints them
            out(json.dumps({**run.to_json(), "exit_code": 130, "interrupted": reason}, indent=2))
        info(f"{reason}: the partial report is inconclusive")
        raise click.exceptions.Exit(130) from None
    write_reports(run, report_dir, junit_file)
    if output_format == "json":
        out(json.dumps(run.to_json(), indent=2))
    else:
        counts = {o: sum(1 for v in run.verdicts if v.outcome.value == o) for o in ("pass", "fail", "inconclusive")}
        builtin = [name for name, used in run.engines.items() if used != engine]
        if builtin:
            info(f"{', '.join(builtin)}: sequential by nature, sent by the built-in driver, not {engine}")
        info(f"{counts['pass']} passed, {counts['fail']} failed, {counts['inconclusive']} inconclusive "
             f"({len(run.log)} requests)")
    raise click.exceptions.Exit(run.exit_code)


def _line(verdict: object) -> str:
    from toolkit.validate.verdict import Verdict

    assert isinstance(verdict, Verdict)
    return f"{verdict.outcome.value.upper():<12} {verdict.scenario:<18} {verdict.sentence} " \
           f"[{verdict.requests} requests, {verdict.seconds:.1f} s]"
