"""`toolkit validate`'s report options: --report DIR, --junit FILE, progress while traffic runs, and the
partial report written when Ctrl-C stops a run."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import click

from toolkit.cli._output import info, out


def report_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option("--junit", "junit_file", default=None, type=click.Path(dir_okay=False),
                           help="Write only a JUnit XML file (one test case per scenario check).")(command)
    return click.option("--report", "report_dir", default=None, type=click.Path(file_okay=False),
                        help="Write requests.csv, summary.json, junit.xml, report.md and report.html here.")(command)


def new_run(on_request: Callable[[Any], None]) -> Any:
    """An empty ValidationRun whose log tells ``on_request`` about each request as it is sent."""
    from toolkit.validate.observations import ObservationLog
    from toolkit.validate.runner import ValidationRun

    class ProgressLog(ObservationLog):
        def add(self, observation: Any) -> Any:
            super().add(observation)
            on_request(observation)
            return observation

    return ValidationRun([], ProgressLog())


class Progress:
    """Rich progress bars on stderr (one per scenario, counting requests) on a terminal, else a line on stderr
    when a scenario starts; each verdict line on stdout when its scenario ends (text mode)."""

    def __init__(self, names: list[str], *, live: bool, line: Callable[[Any], str], quiet: bool = False) -> None:
        self.names, self.line, self.quiet = names, line, quiet
        self.bars: Any = None
        self.tasks: dict[str, Any] = {}
        if live and not quiet:
            from rich.console import Console
            from rich.progress import BarColumn, Progress as Bars, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.bars = Bars(SpinnerColumn(), TextColumn("{task.description:<32}"), BarColumn(),
                             TextColumn("{task.completed} requests"), TimeElapsedColumn(),
                             console=Console(stderr=True))

    @contextmanager
    def shown(self) -> Iterator[Progress]:
        if self.bars is None:
            yield self
            return
        with self.bars:
            # each bar's clock starts with its scenario's first request
            self.tasks = {name: self.bars.add_task(f"  {name}", total=None, start=False) for name in self.names}
            yield self

    def request(self, observation: Any) -> None:
        if self.bars is not None and observation.scenario in self.tasks:
            task = self.tasks[observation.scenario]
            if self.bars.tasks[task].start_time is None:
                self.bars.start_task(task)
            self.bars.advance(task)
        elif self.bars is None and not self.quiet and observation.scenario not in self.tasks:
            self.tasks[observation.scenario] = True
            info(f"  ...          {observation.scenario}: sending requests")

    def verdict(self, verdict: Any) -> None:
        """The bar completes; in text mode the verdict line goes to stdout as soon as the scenario ends."""
        if self.bars is not None:
            task = self.tasks[verdict.scenario]
            done = self.bars.tasks[task].completed
            self.bars.update(task, total=max(done, 1), completed=max(done, 1),
                             description=f"{verdict.outcome.value.upper():<12} {verdict.scenario}")
        if not self.quiet:
            out(self.line(verdict))


def mark_interrupted(run: Any, names: list[str]) -> str:
    """Inconclusive verdicts for the scenarios Ctrl-C (or SIGTERM) stopped or kept from starting; the reason."""
    from toolkit.validate.verdict import inconclusive

    done = {v.scenario for v in run.verdicts}
    current = next((row.scenario for row in reversed(run.log.rows) if row.scenario not in done), None)
    for name in names:
        if name in done:
            continue
        rows = run.log.for_scenario(name)
        reason = (f"interrupted (Ctrl-C) after {len(rows)} requests: no verdict" if name == current
                  else "not run: the validation was interrupted (Ctrl-C)")
        seconds = round(rows[-1].time - rows[0].time, 3) if rows else 0.0
        run.verdicts.append(replace(inconclusive(name, reason), requests=len(rows), seconds=seconds))
    return f"interrupted (Ctrl-C) during {current}" if current else "interrupted (Ctrl-C)"


def check_report_places(report_dir: str | None, junit_file: str | None) -> None:
    """Before any traffic: a file can be created where the report folder and the JUnit file will be (InputError,
    exit 3, otherwise), so a run is not spent only to lose its verdicts at the end. Nothing is left behind: the
    probe is made in the nearest folder that exists, and removed."""
    import tempfile
    from pathlib import Path

    from toolkit.errors import InputError

    for place in filter(None, (report_dir, os.path.dirname(os.path.abspath(junit_file)) if junit_file else None)):
        existing = Path(place).absolute()
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        try:
            if not existing.is_dir():
                raise NotADirectoryError(20, "a file is in the way")
            with tempfile.NamedTemporaryFile(dir=existing, prefix=".toolkit-write-check-"):
                pass
        except OSError as exc:
            raise InputError(f"{place}: the report cannot be written there ({exc.strerror or exc})",
                             hint="choose another folder with --report / --junit") from None


def write_reports(run: Any, report_dir: str | None, junit_file: str | None, interrupted: str | None = None) -> None:
    """The files asked for, with every secret-named environment value masked too."""
    if not report_dir and not junit_file:
        return
    from toolkit.report import ReportInput, write_junit, write_report
    from toolkit.report.redact import environment_secrets

    about = ReportInput(secrets=environment_secrets(os.environ), interrupted=interrupted)
    if report_dir:
        files = write_report(run, report_dir, about)
        info(f"report: {files['report.html']} (open it in a browser); summary {files['report.md']}")
    if junit_file:
        info(f"junit: {write_junit(run, junit_file, about)}")


def terminal() -> bool:
    return sys.stderr.isatty()
