"""report.html built straight from a small hand-made summary and run: the whole page compared exactly (what is
escaped, what goes through the redactor, what is left out when there is nothing to show), and requests.csv's
table from hand-made observations (test_report_files.py checks the files of one whole report)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from toolkit.report.frame import REQUEST_COLUMNS, csv_text, requests_frame
from toolkit.report.html import _STYLE, report_html
from toolkit.validate.observations import Observation, ObservationLog
from toolkit.validate.runner import ValidationRun
from toolkit.validate.verdict import Check, Outcome, Verdict

PASS, FAIL = Outcome.PASS, Outcome.FAIL
LONG = "x" * 130  # past the 120 characters a check's expected or observed shows


def _masked(text: str) -> str:
    """A visible stand-in for the redactor: the secret comes out as ***."""
    return text.replace("s3cret", "***")


def _summary(**changes: Any) -> dict[str, Any]:
    summary = {"verdict": "fail", "partial": True, "interrupted": "interrupted <Ctrl-C>", "requests": 7,
               "target": "emu & co", "generated_at": "2026-12-04T10:00:00Z", "exit_code": 1,
               "scenarios": [{"scenario": "auth", "verdict": "fail", "requests": 7, "seconds": 1.5,
                              "sentence": "a <b> refused"}],
               "regions": [{"region": "East US", "requests": 5, "share": 71.4,
                            "latency_ms": {"mean": 10.0, "p50": 9.0, "p90": 12.0, "p99": 13.0}}],
               "slowest": [{"latency_ms": 40.0, "scenario": "auth", "prompt_id": "p1", "status": 401, "region": None,
                            "cause": "refused"},
                           {"latency_ms": 30.0, "scenario": "auth", "prompt_id": "p2", "status": 200,
                            "region": "East US", "cause": "slow backend"}]}
    summary.update(changes)
    return summary


RUN = ValidationRun([Verdict("auth<1>", FAIL, "x", (
    Check("key s3cret", FAIL, "sent s3cret & got 200", None, LONG),
    Check("token", PASS, "ok", 401, 401)))], ObservationLog())
CHART = SimpleNamespace(name="latency", title="Latency & s3cret", caption="per <request>", png=b"\x89PNG")


def _page(body: str) -> str:
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>toolkit validate report</title>"
            f"<style>{_STYLE}</style></head><body>\n{body}\n</body></html>\n")


def _table(head: str, *rows: str) -> str:
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def test_the_page_in_full() -> None:
    checks = _table("<th>check</th><th>verdict</th><th>expected</th><th>observed</th><th>sentence</th>",
                    "<tr><td>key ***</td><td><span class='fail'>fail</span></td><td></td>"
                    f"<td>{'x' * 119}…</td><td>sent *** &amp; got 200</td></tr>",
                    "<tr><td>token</td><td><span class='pass'>pass</span></td><td>401</td><td>401</td><td>ok</td></tr>")
    body = "\n".join([
        "<h1>toolkit validate: <span class='fail'>fail</span></h1>",
        "<p class='banner'>Partial report: interrupted &lt;Ctrl-C&gt;. The verdict is inconclusive.</p>",
        "<p>7 requests; target: emu &amp; co; generated 2026-12-04T10:00:00Z; exit code 1.</p>",
        _table("<th>scenario</th><th>verdict</th><th>requests</th><th>seconds</th><th>why</th>",
               "<tr><td>auth</td><td><span class='fail'>fail</span></td><td>7</td><td>1.5</td>"
               "<td>a &lt;b&gt; refused</td></tr>"),
        "<h2>Charts</h2>",
        "<figure id='latency'><img alt='Latency &amp; ***' src='data:image/png;base64,iVBORw=='>"
        "<figcaption><b>Latency &amp; ***</b>: per &lt;request&gt;</figcaption></figure>",
        "<h2>Share and latency per region</h2>",
        _table("<th>region</th><th>requests</th><th>share %</th><th>mean ms</th><th>p50 ms</th><th>p90 ms</th>"
               "<th>p99 ms</th>",
               "<tr><td>East US</td><td>5</td><td>71.4</td><td>10.0</td><td>9.0</td><td>12.0</td><td>13.0</td></tr>"),
        "<h2>Slowest requests and their probable cause</h2>",
        _table("<th>ms</th><th>scenario</th><th>prompt</th><th>status</th><th>region</th><th>probable cause</th>",
               "<tr><td>40.0</td><td>auth</td><td>p1</td><td>401</td><td>-</td><td>refused</td></tr>",
               "<tr><td>30.0</td><td>auth</td><td>p2</td><td>200</td><td>East US</td><td>slow backend</td></tr>"),
        "<h2>Checks</h2>",
        "<h3>auth&lt;1&gt;</h3>",
        checks])
    assert report_html(_summary(), RUN, [CHART], _masked) == _page(body)


def test_a_complete_run_has_no_banner_and_sections_without_rows_are_left_out() -> None:
    page = report_html(_summary(partial=False, regions=[], slowest=[], verdict="pass", exit_code=0),
                       ValidationRun([], ObservationLog()), [], _masked)
    body = "\n".join([
        "<h1>toolkit validate: <span class='pass'>pass</span></h1>",
        "<p>7 requests; target: emu &amp; co; generated 2026-12-04T10:00:00Z; exit code 0.</p>",
        _table("<th>scenario</th><th>verdict</th><th>requests</th><th>seconds</th><th>why</th>",
               "<tr><td>auth</td><td><span class='fail'>fail</span></td><td>7</td><td>1.5</td>"
               "<td>a &lt;b&gt; refused</td></tr>"),
        "<h2>Charts</h2>", "<h2>Checks</h2>"])
    assert page == _page(body)


def test_a_check_value_of_exactly_120_characters_is_shown_whole() -> None:
    run = ValidationRun([Verdict("s", PASS, "x", (Check("c", PASS, "ok", "y" * 120, "z" * 121),))], ObservationLog())
    page = report_html(_summary(), run, [], _masked)
    assert f"<td>{'y' * 120}</td><td>{'z' * 119}…</td>" in page


def _observation(time: float, **fields: Any) -> Observation:
    values = {"scenario": "auth", "prompt_id": "p1", "status": 200, "latency_ms": 12.5, "backend": "east",
              "region": "East US", "cache_hit": False, "prompt_tokens": 10, "completion_tokens": 5,
              "retry_after": None, "trace_id": None, "completion_id": "c1", "phase": "", "remaining_tokens": None}
    values.update(fields)
    return Observation(time, values["scenario"], values["prompt_id"], values["status"], values["latency_ms"],
                       values["backend"], values["region"], values["cache_hit"], values["prompt_tokens"],
                       values["completion_tokens"], values["retry_after"], values["trace_id"],
                       values["completion_id"], values["phase"], values["remaining_tokens"])


def test_the_requests_table_and_its_csv() -> None:
    log = ObservationLog()
    log.add(_observation(1_764_842_400.25, remaining_tokens=900))
    log.add(_observation(1_764_842_401.75, status=0, latency_ms=30.0, backend=None, region=None, cache_hit=True,
                         prompt_tokens=None, completion_tokens=None, completion_id=None, phase="set1"))
    frame = requests_frame(SimpleNamespace(log=log))
    assert list(frame.columns) == [*REQUEST_COLUMNS, "t", "total_tokens"]
    assert list(frame["t"]) == [0.0, 1.5]
    assert list(frame["total_tokens"]) == [15, 0]
    assert str(frame["status"].dtype) == "Int64" and str(frame["prompt_tokens"].dtype) == "Int64"
    assert str(frame["completion_tokens"].dtype) == "Int64" and str(frame["remaining_tokens"].dtype) == "Int64"
    assert list(frame["cache_hit"]) == [False, True] and frame["cache_hit"].dtype == bool
    assert csv_text(frame) == (
        ",".join(REQUEST_COLUMNS) + "\n"
        "2025-12-04T10:00:00.250000Z,auth,p1,200,12.5,east,East US,False,10,5,,,c1,,900\n"
        "2025-12-04T10:00:01.750000Z,auth,p1,0,30.0,,,True,,,,,,set1,\n")


def test_an_empty_run_has_the_columns_and_no_rows() -> None:
    frame = requests_frame(SimpleNamespace(log=ObservationLog()))
    assert list(frame.columns) == [*REQUEST_COLUMNS, "t", "total_tokens"] and len(frame) == 0
    assert csv_text(frame) == ",".join(REQUEST_COLUMNS) + "\n"
