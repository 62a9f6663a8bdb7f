"""What the writer decides for every report file: which secrets are masked (the caller's and the run's own), the
target named, a partial run's JUnit file, the masking of every text column of requests.csv, and the message when
a file cannot be written (test_report_files.py checks the contents of one whole report)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from tests.unit.report.conftest import SECRET_JWT, SECRET_KEY, make_run
from toolkit.errors import InputError
from toolkit.report import ReportInput, write_junit, write_report
from toolkit.report.writer import masked_frame

RUN_SECRET = "the-runs-own-subscription-key-31337"


def test_the_runs_own_secrets_and_target_reach_no_file_but_its_target_does(tmp_path: Path) -> None:
    run = make_run()
    run.secrets, run.target = [RUN_SECRET], "gateway at https://apim.example.net"
    run.verdicts[0] = replace(run.verdicts[0], sentence=f"key {RUN_SECRET} leaked")
    files = write_report(run, tmp_path)  # no ReportInput: the run's own secrets are still masked
    for path in files.values():
        assert RUN_SECRET not in path.read_text(encoding="utf-8"), path.name
    summary = json.loads(files["summary.json"].read_text(encoding="utf-8"))
    assert summary["target"] == "gateway at https://apim.example.net"
    assert summary["scenarios"][0]["sentence"] == "key *** leaked"
    named = write_report(run, tmp_path / "named", ReportInput(target="what the caller says"))
    assert json.loads(named["summary.json"].read_text(encoding="utf-8"))["target"] == "what the caller says"


def test_a_run_without_a_target_or_secrets_attribute_is_written_too(tmp_path: Path) -> None:
    class Bare:  # a duck-typed run: verdicts and log only
        def __init__(self) -> None:
            whole = make_run()
            self.verdicts, self.log = whole.verdicts, whole.log

    files = write_report(Bare(), tmp_path, ReportInput(secrets=[SECRET_KEY]))
    assert json.loads(files["summary.json"].read_text(encoding="utf-8"))["target"] == ""
    assert write_junit(Bare(), tmp_path / "junit-bare.xml").exists()


def test_the_junit_file_alone_masks_the_runs_secrets_and_says_when_it_is_partial(tmp_path: Path) -> None:
    run = make_run()
    run.secrets = [SECRET_KEY]
    text = write_junit(run, tmp_path / "j.xml").read_text(encoding="utf-8")
    assert SECRET_KEY not in text and "never tripped (key ***)" in text and "interrupted" not in text
    partial = write_junit(run, tmp_path / "p.xml", ReportInput(interrupted="SIGTERM")).read_text(encoding="utf-8")
    assert 'name="toolkit validate (interrupted: partial, inconclusive)"' in partial


def test_every_text_column_is_masked_and_nothing_else_changes() -> None:
    frame = pd.DataFrame({"prompt_id": [f"say {SECRET_KEY}", None], "region": pd.array(["East US", None],
                          dtype="string"), "status": pd.array([200, None], dtype="Int64"),
                          "latency_ms": [1.5, 2.5], "trace_id": [f"Bearer {SECRET_JWT}", 7]})
    masked = masked_frame(frame, lambda text: text.replace(SECRET_KEY, "***").replace(SECRET_JWT, "***"))
    assert masked["prompt_id"][0] == "say ***" and pd.isna(masked["prompt_id"][1])
    assert masked["trace_id"].tolist() == ["Bearer ***", 7]  # a non-text cell of a text column is kept
    assert masked["region"].tolist() == ["East US", pd.NA] and masked["status"].tolist() == [200, pd.NA]
    assert masked["latency_ms"].tolist() == [1.5, 2.5]
    assert frame["prompt_id"][0] == f"say {SECRET_KEY}"  # a copy: the caller's frame is left as it was


def test_a_report_that_cannot_be_written_is_bad_input_naming_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "report.html"
    folder.mkdir()  # a folder where the file goes
    with pytest.raises(InputError) as caught:
        write_junit(make_run(), folder)
    assert caught.value.message.startswith(f"{folder}: cannot write the report (")


def test_summary_json_is_indented_utf_8_text(tmp_path: Path) -> None:
    run = make_run()
    run.target = "passerelle de Zürich"
    text = write_report(run, tmp_path)["summary.json"].read_text(encoding="utf-8")
    assert text.startswith('{\n  "schema": "toolkit-validate-summary/1",\n  "generated_at": ') and text.endswith("}\n")
    assert '"target": "passerelle de Zürich"' in text  # not \u00fc
