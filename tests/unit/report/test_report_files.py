"""The report files of a validation run: each one written, parseable, and saying what the run found."""

from __future__ import annotations

import base64
import csv
import json
import re
from pathlib import Path

import jsonschema
import pytest
from junitparser import Failure, JUnitXml, Skipped

from tests.unit.report.conftest import SECRET_JWT, SECRET_KEY, make_run
from toolkit.report import REPORT_FILES, ReportInput, write_junit, write_report
from toolkit.report.frame import REQUEST_COLUMNS
from toolkit.report.summary_json import schema


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One report for the read-only tests (charts take a few seconds to draw)."""
    return write_report(make_run(), tmp_path_factory.mktemp("report"),
                        ReportInput(target="local emulator", secrets=[SECRET_KEY]))


def test_every_file_is_written(report: dict[str, Path]) -> None:
    assert sorted(report) == sorted(REPORT_FILES)
    assert all(path.stat().st_size > 0 for path in report.values())


def test_requests_csv_has_one_row_per_request_and_the_documented_columns(run, report) -> None:
    with report["requests.csv"].open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(run.log)
    assert tuple(rows[0]) == REQUEST_COLUMNS
    assert rows[0]["time"].endswith("Z") and rows[0]["region"] == "East US"
    refused = rows[-1]
    assert (refused["status"], refused["retry_after"], refused["prompt_tokens"]) == ("429", "42.0", "")


def test_summary_json_follows_its_schema(report) -> None:
    document = json.loads(report["summary.json"].read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema())
    jsonschema.validate(document, schema(), cls=jsonschema.Draft202012Validator)
    assert (document["verdict"], document["exit_code"], document["partial"]) == ("fail", 1, False)
    assert document["counts"] == {"pass": 2, "fail": 1, "inconclusive": 1}
    broken = {**document, "verdict": "maybe"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema(), cls=jsonschema.Draft202012Validator)


def test_summary_region_table_is_the_seeds_analysis(report) -> None:
    regions = {r["region"]: r for r in json.loads(report["summary.json"].read_text(encoding="utf-8"))["regions"]}
    # 24 + 2 failures + 1 recovery + 5 token calls on East US; 16 + 3 on North Central US; 4 cache calls on West US.
    assert {name: r["requests"] for name, r in regions.items()} == {"East US": 32, "North Central US": 19, "West US": 4}
    assert regions["West US"]["share"] == round(100 * 4 / 55, 2)
    assert regions["West US"]["latency_ms"]["p50"] == 32.5  # median of 60, 5, 5, 60


def test_junit_has_one_testcase_per_check_with_the_sentence_as_failure(run, report) -> None:
    xml = JUnitXml.fromfile(str(report["junit.xml"]))
    suites = {suite.name: suite for suite in xml}
    assert list(suites) == [v.scenario for v in run.verdicts]
    assert sum(len(list(suite)) for suite in xml) == sum(len(v.checks) for v in run.verdicts)
    trips = next(case for case in suites["circuit-breaker"] if case.name == "trips")
    failure = trips.result[0]
    assert isinstance(failure, Failure) and failure.message.startswith("openai-eastus never tripped")
    limit = next(iter(suites["token-limit"]))
    assert isinstance(limit.result[0], Skipped) and "inconclusive" in limit.result[0].message
    assert all(case.is_passed for case in suites["load-balancing"])
    assert xml.failures == 1 and xml.skipped == 1


def test_junit_alone(run, tmp_path: Path) -> None:
    path = write_junit(run, tmp_path / "out" / "validate.xml", ReportInput(secrets=[SECRET_KEY]))
    assert JUnitXml.fromfile(str(path)).tests == 6 and not (tmp_path / "out" / "report.html").exists()


def test_markdown_starts_with_the_verdict_table(report) -> None:
    lines = report["report.md"].read_text(encoding="utf-8").splitlines()
    assert lines[0] == "| scenario | verdict | requests | seconds | why |"
    assert lines[3].startswith("| circuit-breaker | ❌ fail |")
    assert "![" not in "\n".join(lines)  # no images: the step summary shows text


def test_html_is_self_contained_with_every_chart(report) -> None:
    page = report["report.html"].read_text(encoding="utf-8")
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", page) and "<script" not in page
    figures = re.findall(r"<figure id='([^']+)'><img alt='[^']*' src='data:image/png;base64,([^']+)'", page)
    assert [name for name, _ in figures] == ["latency-by-region", "latency-by-cache", "backend-shares",
                                             "breaker-timeline", "cache-distances", "token-consumption"]
    for _, data in figures:
        assert base64.b64decode(data).startswith(b"\x89PNG\r\n\x1a\n")


def test_no_file_contains_a_key_or_token(report) -> None:
    for path in report.values():
        text = path.read_text(encoding="utf-8")
        assert SECRET_KEY not in text and SECRET_JWT not in text, path.name
    assert "never tripped (key ***)" in report["report.md"].read_text(encoding="utf-8")


def test_interrupted_run_is_a_partial_inconclusive_report(run, tmp_path: Path) -> None:
    run.verdicts = [v for v in run.verdicts if v.outcome.value == "pass"]
    files = write_report(run, tmp_path, ReportInput(interrupted="interrupted (Ctrl-C) during token-limit"))
    document = json.loads(files["summary.json"].read_text(encoding="utf-8"))
    assert (document["verdict"], document["exit_code"], document["partial"]) == ("inconclusive", 130, True)  # as exited
    assert "Partial report" in files["report.md"].read_text(encoding="utf-8")
    assert "Partial report" in files["report.html"].read_text(encoding="utf-8")
    assert "interrupted" in JUnitXml.fromfile(str(files["junit.xml"])).name


def test_a_report_folder_that_is_a_file_is_bad_input(run, tmp_path: Path) -> None:
    from toolkit.errors import InputError

    (tmp_path / "taken").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="not a folder"):
        write_report(run, tmp_path / "taken")


def test_quoted_credentials_and_markup_in_any_text_leave_every_file_valid_and_masked(tmp_path: Path) -> None:
    """Found by an audit: masking the written JSON text swallowed the backslash of an escaped quote (invalid
    summary.json), CSV's doubled quotes hid a key from the mask, and report.md let HTML and '|' through."""
    from dataclasses import replace

    from toolkit.validate.observations import Observation

    hostile = 'How do I send api-key: "abc123secret" and Bearer "tok456secret" to https://x/?sig="sig789secret"'
    run = make_run()
    run.verdicts[0] = replace(run.verdicts[0], sentence=hostile + " <script>x</script> | a | b")
    run.log.add(Observation(time=1_800_000_100.0, scenario="load-balancing", prompt_id=hostile, status=200,
                            latency_ms=10.0, backend="openai-eastus", region="North|Central <script>", cache_hit=False,
                            prompt_tokens=5, completion_tokens=5, retry_after=None, trace_id="t", completion_id="c",
                            phase="x", remaining_tokens=None))
    files = write_report(run, tmp_path)
    document = json.loads(files["summary.json"].read_text(encoding="utf-8"))  # valid JSON
    assert document["scenarios"][0]["sentence"].startswith('How do I send api-key: "***" and Bearer "***" to '
                                                           'https://x/?sig="***"')
    with files["requests.csv"].open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(run.log)
    for name, path in files.items():
        text = path.read_text(encoding="utf-8")
        for secret in ("abc123secret", "tok456secret", "sig789secret"):
            assert secret not in text, (name, secret)
    markdown = files["report.md"].read_text(encoding="utf-8")
    assert "<script>" not in markdown and "&lt;script&gt;" in markdown
    table = [line for line in markdown.splitlines() if line.startswith("| load-balancing |")][0]
    assert len(re.findall(r"(?<!\\)\|", table)) == 6  # five cells: the sentence's '|' are escaped
    region_rows = [line for line in markdown.splitlines() if line.startswith("| North")]  # the region table
    assert region_rows and all(len(re.findall(r"(?<!\\)\|", line)) == 8 for line in region_rows)
    assert "<script>" not in files["report.html"].read_text(encoding="utf-8")
