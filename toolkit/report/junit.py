"""junit.xml: one test suite per scenario, one test case per check; a fail's sentence is the failure message,
an inconclusive check is skipped with its sentence (pipelines show it without failing on it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree as ET


def junit_xml(run: Any, redact: Callable[[str], str], *, partial: bool = False) -> bytes:
    suites = ET.Element("testsuites", name="toolkit validate")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for verdict in run.verdicts:
        checks = verdict.checks or ()
        suite = ET.SubElement(suites, "testsuite", name=verdict.scenario, time=f"{verdict.seconds:.3f}")
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        for check in checks:
            case = ET.SubElement(suite, "testcase", name=check.name, classname=f"validate.{verdict.scenario}")
            counts["tests"] += 1
            sentence = redact(check.sentence)
            if check.outcome.value == "fail":
                counts["failures"] += 1
                failure = ET.SubElement(case, "failure", message=sentence, type="ValidationFailure")
                failure.text = redact(f"expected: {check.expected!r}\nobserved: {check.observed!r}")
            elif check.outcome.value == "inconclusive":
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=f"inconclusive: {sentence}")
            else:
                ET.SubElement(case, "system-out").text = sentence
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("errors", "0")
    for key, value in totals.items():
        suites.set(key, str(value))
    suites.set("errors", "0")
    if partial:
        suites.set("name", "toolkit validate (interrupted: partial, inconclusive)")
    ET.indent(suites)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="utf-8") + b"\n"
