"""`toolkit demo`: the whole loop on the local emulator, with no Azure account."""

from __future__ import annotations

import json

import click

from toolkit.cli._options import config_option, format_option
from toolkit.cli._output import info, out


@click.command("demo")
@config_option
@click.option("--report", "report_dir", default="toolkit-demo-report", show_default=True,
              type=click.Path(file_okay=False), help="Folder for the validation report.")
@click.option("--seed", type=int, default=None, help="Seed for the emulator and the validation (reproducible runs).")
@format_option("text", "json")
def cli(config_path: str, report_dir: str, seed: int | None, output_format: str) -> None:
    """Render, lint, apply to the embedded emulator through the Azure SDK, then validate every scenario
    (load-balancing, priority-failover, circuit-breaker, semantic-cache, token-limit, auth) and write the
    report. Uses the `local` environment; your apimartifacts/ folder is not touched.

    Exit 0 when every scenario passes, 1 when one fails or lint finds errors, 5 when one is inconclusive.
    """
    from pathlib import Path

    from toolkit.cli._validate_report import Progress, check_report_places, new_run, terminal
    from toolkit.cli.validate import _line
    from toolkit.demo import run_demo
    from toolkit.validate.runner import expand

    config_path = _project(config_path)
    check_report_places(report_dir, None)
    progress = Progress(expand(["all"]), live=terminal(), line=_line, quiet=output_format == "json")
    run = new_run(progress.request)
    with progress.shown():
        result = run_demo(config_path, report_dir=report_dir, seed=seed, say=info, on_verdict=progress.verdict,
                          run=run)
    if output_format == "json":
        out(json.dumps(result.to_json(), indent=2))
    if result.lint_errors:
        info("\n".join(result.lint_errors))
        info("demo stopped: the rendered tree has lint errors")
        raise click.exceptions.Exit(1)
    counts = {o: sum(1 for v in result.run.verdicts if v.outcome.value == o) for o in ("pass", "fail", "inconclusive")}
    html = Path(result.report["report.html"]).resolve()
    info("")
    info(f"demo finished: {counts['pass']} passed, {counts['fail']} failed, {counts['inconclusive']} inconclusive "
         f"({len(result.run.log)} requests)")
    info(f"report: {html}")
    info(f"open it: python3 -m webbrowser {html.as_uri()}   (or open {html.name} from that folder)")
    raise click.exceptions.Exit(result.exit_code)


def _project(config_path: str) -> str:
    """The project the demo runs: ``--config`` (or $TOOLKIT_CONFIG) as given, toolkit.yaml in this folder, or else
    the sample project this package was installed from (a source checkout or an editable install: the folder
    above the package), so that `toolkit demo` runs from any folder. A wheel has no sample project: the usual
    "config file not found" follows."""
    from pathlib import Path

    from click.core import ParameterSource

    given = click.get_current_context().get_parameter_source("config_path") is not ParameterSource.DEFAULT
    if given or Path(config_path).exists():
        return config_path
    sample = Path(__file__).resolve().parents[2] / "toolkit.yaml"
    if not sample.is_file():
        return config_path
    info(f"no {config_path} in this folder: running the sample project {sample}")
    return str(sample)
