"""junit.xml and summary.json built straight from small hand-made runs: every element, attribute, count and
mapping a CI pipeline reads (test_report_files.py checks the files of one whole report)."""

from __future__ import annotations

import math
import re
import time
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pytest

from tests.unit.report.conftest import make_run
from toolkit.report.frame import requests_frame
from toolkit.report.junit import junit_xml
from toolkit.report.summary_json import SCHEMA_ID, _plain, summary_document
from toolkit.validate.observations import ObservationLog
from toolkit.validate.runner import ValidationRun
from toolkit.validate.verdict import Check, Outcome, Verdict

PASS, FAIL, INCONCLUSIVE = Outcome.PASS, Outcome.FAIL, Outcome.INCONCLUSIVE


def _run(*verdicts: Verdict) -> ValidationRun:
    return ValidationRun(list(verdicts), ObservationLog())


def _upper(text: str) -> str:
    """A visible stand-in for the redactor: every text it is given comes out upper-cased."""
    return text.upper()


TWO_SCENARIOS = _run(
    Verdict("load-balancing", PASS, "shares ok", (
        Check("eastus", PASS, "eastus share ok", 0.6, 0.61),
        Check("westus", INCONCLUSIVE, "too few requests", 0.4, None)), seconds=1.23456),
    Verdict("circuit-breaker", FAIL, "never tripped", (
        Check("trips", FAIL, "never tripped", 3, 0),), seconds=2.0),
    Verdict("auth", INCONCLUSIVE, "no token", checks=None, seconds=0.0),  # type: ignore[arg-type]
)

EXPECTED_JUNIT = '''<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="toolkit validate" tests="3" failures="1" skipped="1" errors="0">
  <testsuite name="load-balancing" time="1.235" tests="2" failures="0" skipped="1" errors="0">
    <testcase name="eastus" classname="validate.load-balancing">
      <system-out>EASTUS SHARE OK</system-out>
    </testcase>
    <testcase name="westus" classname="validate.load-balancing">
      <skipped message="inconclusive: TOO FEW REQUESTS" />
    </testcase>
  </testsuite>
  <testsuite name="circuit-breaker" time="2.000" tests="1" failures="1" skipped="0" errors="0">
    <testcase name="trips" classname="validate.circuit-breaker">
      <failure message="NEVER TRIPPED" type="ValidationFailure">EXPECTED: 3
OBSERVED: 0</failure>
    </testcase>
  </testsuite>
  <testsuite name="auth" time="0.000" tests="0" failures="0" skipped="0" errors="0" />
</testsuites>
'''


def test_junit_has_a_suite_per_scenario_a_case_per_check_and_every_count() -> None:
    assert junit_xml(TWO_SCENARIOS, _upper).decode("utf-8") == EXPECTED_JUNIT


def test_an_interrupted_runs_junit_says_so_in_its_name() -> None:
    text = junit_xml(TWO_SCENARIOS, _upper, partial=True).decode("utf-8")
    assert '<testsuites name="toolkit validate (interrupted: partial, inconclusive)" tests="3"' in text
    assert text.replace(" (interrupted: partial, inconclusive)", "") == EXPECTED_JUNIT


def test_junit_counts_add_up_over_many_failures_and_skips() -> None:
    checks = tuple(Check(f"c{n}", outcome, "x") for n, outcome in enumerate([FAIL, FAIL, INCONCLUSIVE, INCONCLUSIVE,
                                                                            INCONCLUSIVE, PASS]))
    text = junit_xml(_run(Verdict("a", FAIL, "x", checks), Verdict("b", FAIL, "x", checks[:1])), str).decode()
    assert '<testsuites name="toolkit validate" tests="7" failures="3" skipped="3" errors="0">' in text
    assert '<testsuite name="a" time="0.000" tests="6" failures="2" skipped="3" errors="0">' in text


def test_junit_is_utf_8_text_not_character_references() -> None:
    text = junit_xml(_run(Verdict("région", PASS, "x", (Check("süd", PASS, "naïve ✓"),))), str)
    assert 'name="région"' in text.decode("utf-8") and "naïve ✓".encode() in text and b"&#" not in text


# -- summary.json ------------------------------------------------------------------------------------------

def _verdicts(*outcomes: Outcome) -> ValidationRun:
    return _run(*(Verdict(f"s{n}", outcome, "x") for n, outcome in enumerate(outcomes)))


@pytest.mark.parametrize(("outcomes", "partial", "verdict", "exit_code"), [
    ((PASS, PASS), False, "pass", 0),
    ((), False, "pass", 0),
    ((PASS, INCONCLUSIVE), False, "inconclusive", 5),
    ((INCONCLUSIVE, FAIL, PASS), False, "fail", 1),
    ((PASS,), True, "inconclusive", 130),  # interrupted: never a pass, exits as the CLI did
    ((FAIL,), True, "fail", 130),
])
def test_the_summary_verdict_is_the_worst_outcome_and_its_exit_code(outcomes: tuple[Outcome, ...], partial: bool,
                                                                     verdict: str, exit_code: int) -> None:
    run = _verdicts(*outcomes)
    document = summary_document(run, requests_frame(run), target="t", partial=partial, interrupted=None)
    assert (document["verdict"], document["exit_code"], document["partial"]) == (verdict, exit_code, partial)
    assert document["counts"] == {name: sum(o.value == name for o in outcomes)
                                  for name in ("pass", "fail", "inconclusive")}


def test_the_summary_document_carries_the_run_whole() -> None:
    run = make_run()
    frame = requests_frame(run)
    document = summary_document(run, frame, target="local emulator", partial=True, interrupted="Ctrl-C")
    assert list(document) == ["schema", "generated_at", "target", "verdict", "exit_code", "partial", "interrupted",
                              "requests", "counts", "scenarios", "regions", "slowest"]
    assert document["schema"] == SCHEMA_ID == "toolkit-validate-summary/1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", document["generated_at"])
    assert (document["target"], document["interrupted"], document["requests"]) == ("local emulator", "Ctrl-C", len(run.log))
    assert document["scenarios"] == [_plain(v.to_json()) for v in run.verdicts]
    assert [r["region"] for r in document["regions"]] == ["East US", "North Central US", "West US"]
    assert document["slowest"][0]["latency_ms"] == 2000.0
    assert document["scenarios"][2]["observed"]["pairs"][0] == {"group": "set1", "prompt": "a", "distance": 0.0,
                                                               "hit": True}


def test_the_summary_is_stamped_in_utc_whatever_the_local_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Kolkata")  # UTC+05:30, no daylight saving
    time.tzset()
    try:
        run = _verdicts(PASS)
        stamped = summary_document(run, requests_frame(run), target="", partial=False, interrupted=None)["generated_at"]
        now = datetime.now(timezone.utc)
    finally:
        monkeypatch.undo()
        time.tzset()
    at = datetime.strptime(stamped, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert abs((now - at).total_seconds()) < 60


def test_plain_makes_every_value_json_safe() -> None:
    class Named:
        def __str__(self) -> str:
            return "named"

    value = {1: (1, 2.5), "flags": {True}, "n": None, "t": "x", "b": False, "nan": math.nan, "inf": -math.inf,
             "np_int": np.int64(7), "np_float": np.float32(0.5), "np_nan": np.float64("nan"), "np_bool": np.bool_(True),
             "obj": Named(), "nested": [[np.int32(3)]]}
    plain: dict[str, Any] = _plain(value)
    assert plain == {"1": [1, 2.5], "flags": [True], "n": None, "t": "x", "b": False, "nan": None, "inf": None,
                     "np_int": 7, "np_float": 0.5, "np_nan": None, "np_bool": True, "obj": "named", "nested": [[3]]}
    assert type(plain["np_int"]) is int and type(plain["np_float"]) is float and type(plain["np_bool"]) is bool
    assert plain["b"] is False and type(plain["nested"][0][0]) is int


# -- report.md ----------------------------------------------------------------------------------------------

SUMMARY = {
    "scenarios": [{"scenario": "load-balancing", "verdict": "pass", "requests": 40, "seconds": 2.0,
                   "sentence": "shares | ok <b>"},
                  {"scenario": "auth", "verdict": "inconclusive", "requests": 3, "seconds": 0.5, "sentence": "a\nb\rc"},
                  {"scenario": "circuit-breaker", "verdict": "fail", "requests": 7, "seconds": 1.0,
                   "sentence": 'x "quoted" it\'s'}],
    "verdict": "fail", "exit_code": 1, "partial": True, "interrupted": "Ctrl-C <now>", "requests": 50,
    "target": "local emulator", "generated_at": "2026-12-04T00:00:00Z",
    "regions": [{"region": "East US", "requests": 40, "share": 80.0,
                 "latency_ms": {"mean": 20.5, "p50": 20.0, "p90": 30.0, "p99": 31.5}}],
    "slowest": [{"latency_ms": 900.0, "scenario": "circuit-breaker", "prompt_id": "p1", "status": 503, "region": None,
                 "cause": "breaker open"}],
}

EXPECTED_MARKDOWN = """\
| scenario | verdict | requests | seconds | why |
| --- | --- | --- | --- | --- |
| load-balancing | ✅ pass | 40 | 2.0 | shares \\| ok &lt;b&gt; |
| auth | ⚠️ inconclusive | 3 | 0.5 | a b c |
| circuit-breaker | ❌ fail | 7 | 1.0 | x "quoted" it's |

## toolkit validate: ❌ fail (exit 1)

**Partial report: Ctrl-C &lt;now&gt;.** The verdict is inconclusive.

50 requests; target: local emulator; generated 2026-12-04T00:00:00Z.

### Share and latency per region

| region | requests | share | mean ms | p50 ms | p90 ms | p99 ms |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
| East US | 40 | 80.0% | 20.5 | 20.0 | 30.0 | 31.5 |

### Slowest requests and their probable cause

| ms | scenario | prompt | status | region | probable cause |
| ---: | --- | --- | ---: | --- | --- |
| 900.0 | circuit-breaker | p1 | 503 | - | breaker open |

Charts: open `report.html` from the report folder (self-contained).
"""


def test_report_markdown_is_the_verdict_table_then_the_analysis() -> None:
    from toolkit.report.markdown import report_markdown

    assert report_markdown(SUMMARY) == EXPECTED_MARKDOWN


def test_a_whole_run_without_requests_has_no_analysis_tables() -> None:
    from toolkit.report.markdown import report_markdown

    text = report_markdown({**SUMMARY, "partial": False, "regions": [], "slowest": [], "verdict": "pass",
                            "exit_code": 0})
    assert "Partial" not in text and "###" not in text and "## toolkit validate: ✅ pass (exit 0)" in text
