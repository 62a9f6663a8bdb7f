"""Progress while traffic runs: a bar per scenario counting requests (terminal), start lines otherwise, the
verdict line on stdout; and what Ctrl-C leaves."""

from __future__ import annotations


import pytest

from toolkit.cli._validate_report import Progress, mark_interrupted, new_run
from toolkit.validate.observations import Observation
from toolkit.validate.verdict import Outcome, Verdict


def _observation(scenario: str) -> Observation:
    return Observation(0.0, scenario, "p", 200, 1.0, "b", "East US", False, 1, 1, None, None, "c")


def _line(verdict: Verdict) -> str:
    return f"{verdict.outcome.value.upper()} {verdict.scenario}"


def test_bars_count_requests_per_scenario() -> None:
    progress = Progress(["auth", "token-limit"], live=True, line=_line)
    run = new_run(progress.request)
    with progress.shown():
        for scenario in ("auth", "auth", "token-limit"):
            run.log.add(_observation(scenario))
        progress.verdict(Verdict("auth", Outcome.PASS, "ok"))
        tasks = {t.description.split()[-1]: t for t in progress.bars.tasks}
    assert tasks["auth"].completed == 2 and tasks["auth"].finished and "PASS" in tasks["auth"].description
    assert tasks["token-limit"].completed == 1 and not tasks["token-limit"].finished
    assert len(run.log) == 3


def test_without_a_terminal_a_line_per_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    progress = Progress(["auth"], live=False, line=_line)
    run = new_run(progress.request)
    with progress.shown():
        run.log.add(_observation("auth"))
        run.log.add(_observation("auth"))
        progress.verdict(Verdict("auth", Outcome.FAIL, "no"))
    captured = capsys.readouterr()
    assert captured.err.count("auth: sending requests") == 1 and captured.out == "FAIL auth\n"
    quiet = Progress(["auth"], live=False, line=_line, quiet=True)
    quiet.request(_observation("auth"))
    quiet.verdict(Verdict("auth", Outcome.PASS, "ok"))
    assert capsys.readouterr() == ("", "")


def test_interrupted_scenarios_are_inconclusive() -> None:
    run = new_run(lambda observation: None)
    run.verdicts.append(Verdict("load-balancing", Outcome.PASS, "ok"))
    run.log.add(_observation("load-balancing"))
    run.log.add(_observation("priority-failover"))
    reason = mark_interrupted(run, ["load-balancing", "priority-failover", "auth"])
    outcomes = {v.scenario: (v.outcome, v.sentence) for v in run.verdicts}
    assert reason == "interrupted (Ctrl-C) during priority-failover"
    assert outcomes["load-balancing"][0] is Outcome.PASS
    assert outcomes["priority-failover"] == (Outcome.INCONCLUSIVE, "interrupted (Ctrl-C) after 1 requests: no verdict")
    assert outcomes["auth"][0] is Outcome.INCONCLUSIVE and outcomes["auth"][1].startswith("not run")
