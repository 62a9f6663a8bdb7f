"""Writes a run's report files (atomically, every text through the redactor)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.errors import InputError

REPORT_FILES = ("requests.csv", "summary.json", "junit.xml", "report.md", "report.html")


@dataclass(frozen=True)
class ReportInput:
    """What a report says besides the run: the target's description, secrets to mask, and whether the run
    was interrupted (then the report is partial and its verdict inconclusive)."""

    target: str = ""
    secrets: Iterable[str | None] = field(default_factory=tuple)
    interrupted: str | None = None

    @property
    def partial(self) -> bool:
        return self.interrupted is not None


def write_report(run: Any, directory: str | Path, about: ReportInput | None = None) -> dict[str, Path]:
    """Write REPORT_FILES into ``directory`` (created); returns file name -> path."""
    from toolkit.report.charts import all_charts
    from toolkit.report.frame import csv_text, requests_frame
    from toolkit.report.html import report_html
    from toolkit.report.junit import junit_xml
    from toolkit.report.markdown import report_markdown
    from toolkit.report.redact import masked
    from toolkit.report.summary_json import summary_document

    about = about or ReportInput()
    redact = _redactor(run, about)
    frame = requests_frame(run)
    # Values are masked before they are written in any format, never the written text: a mask can swallow the
    # backslash of a JSON escape, or miss a key the format quoted ("" in CSV, &quot; in HTML).
    summary = masked(summary_document(run, frame, target=about.target or getattr(run, "target", ""),
                                      partial=about.partial, interrupted=about.interrupted), redact)
    texts = {
        "requests.csv": csv_text(masked_frame(frame, redact)),
        "summary.json": json.dumps(summary, indent=2, ensure_ascii=False) + "\n",
        "junit.xml": junit_xml(run, redact, partial=about.partial).decode("utf-8"),
        "report.md": report_markdown(summary),
        "report.html": report_html(summary, run, all_charts(run, frame), redact),
    }
    folder = Path(directory)
    return {name: _write(folder / name, text) for name, text in texts.items()}


def write_junit(run: Any, path: str | Path, about: ReportInput | None = None) -> Path:
    """Only the JUnit file (for pipelines that need nothing else)."""
    from toolkit.report.junit import junit_xml

    about = about or ReportInput()
    return _write(Path(path), junit_xml(run, _redactor(run, about), partial=about.partial).decode("utf-8"))


def masked_frame(frame: Any, redact: Callable[[str], str]) -> Any:
    """A copy of the requests frame with every text cell passed through ``redact``."""
    from pandas.api.types import is_object_dtype, is_string_dtype

    copy = frame.copy()
    for column in copy.columns:
        if is_string_dtype(copy[column]) or is_object_dtype(copy[column]):  # "str" in pandas 3, object before
            copy[column] = copy[column].map(lambda cell: redact(cell) if isinstance(cell, str) else cell)
    return copy


def _redactor(run: Any, about: ReportInput) -> Any:
    """Masks what the caller names and every key and token the run itself used."""
    from toolkit.report.redact import Redactor

    return Redactor([*about.secrets, *getattr(run, "secrets", ())])


def _write(path: Path, text: str) -> Path:
    from toolkit.artifacts.io import write_atomic

    if path.parent.exists() and not path.parent.is_dir():
        raise InputError(f"{path.parent}: not a folder (the report is written there)")
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise InputError(f"{path}: cannot write the report ({exc.strerror})") from None
    return path
