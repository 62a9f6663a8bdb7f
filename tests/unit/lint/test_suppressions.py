"""Suppressions: what an inline comment or a toolkit.yaml entry covers, what it does not, and what is unused."""

from __future__ import annotations

import pytest

from toolkit.artifacts.model import ArtifactSet
from toolkit.errors import InputError
from toolkit.lint import lint_tree
from toolkit.lint.core import Finding, Severity
from toolkit.lint.runner import LintResult
from toolkit.lint.suppressions import Suppression, split_findings

RETRIES = """<policies>
    <inbound><base /></inbound>
    <backend>
        <!-- toolkit: ignore APIM022 GETs only: no body to re-send -->
        <retry condition="@(context.Response.StatusCode == 429)" count="1" interval="0">
            <forward-request />
        </retry>
        <retry condition="@(context.Response.StatusCode == 503)" count="1" interval="0">
            <forward-request />
        </retry>
    </backend>
    <outbound><base /></outbound>
    <on-error><base /></on-error>
</policies>
"""


def lint(files: dict[str, str], **kwargs: object) -> LintResult:
    return lint_tree(ArtifactSet(files), **kwargs)  # type: ignore[arg-type]


def codes_and_lines(findings: object) -> list[tuple[str, int]]:
    return [(f.code, f.line) for f in findings]  # type: ignore[attr-defined]


def test_an_inline_comment_covers_only_the_element_after_it() -> None:
    result = lint({"apis/a/policy.xml": RETRIES})
    assert codes_and_lines(f for f in result.findings if f.code == "APIM022") == [("APIM022", 9)]
    (suppressed,) = result.suppressed
    assert (suppressed.finding.code, suppressed.finding.line) == ("APIM022", 6)
    assert suppressed.suppression.reason == "GETs only: no body to re-send"
    assert suppressed.suppression.source == "apis/a/policy.xml:4"
    assert suppressed.suppression.lines == (5, 6)
    assert result.unused == ()


def test_an_inline_comment_before_the_root_covers_the_whole_document() -> None:
    text = "<!-- Toolkit: Ignore apim022, APIM021 — copied from production as it is -->\n" + RETRIES.replace(
        "        <!-- toolkit: ignore APIM022 GETs only: no body to re-send -->\n", "")
    result = lint({"apis/a/policy.xml": text})
    assert [f.code for f in result.findings if f.code == "APIM022"] == []
    assert [s.finding.line for s in result.suppressed] == [6, 9]
    assert result.suppressed[0].suppression.rules == ("APIM022", "APIM021")
    assert result.suppressed[0].suppression.reason == "copied from production as it is"
    assert [rule.rules for rule in result.unused] == []


def test_an_inline_comment_for_another_rule_is_unused_and_suppresses_nothing() -> None:
    result = lint({"apis/a/policy.xml": RETRIES.replace("ignore APIM022", "ignore APIM023")})
    assert codes_and_lines(f for f in result.findings if f.code == "APIM022") == [("APIM022", 6), ("APIM022", 9)]
    assert result.suppressed == ()
    assert [rule.source for rule in result.unused] == ["apis/a/policy.xml:4"]
    assert result.exit_code("warning") == 1


def test_a_comment_followed_by_no_element_is_unused() -> None:
    text = RETRIES.replace("    </backend>", "        <!-- toolkit: ignore APIM022 nothing after me -->\n    </backend>")
    result = lint({"apis/a/policy.xml": text})
    (unused,) = result.unused
    assert unused.lines is None and unused.describe() == "APIM022 (followed by no element)"


def test_ordinary_comments_are_not_suppressions() -> None:
    text = RETRIES.replace("toolkit: ignore APIM022 GETs only: no body to re-send", "ignore APIM022 please")
    result = lint({"apis/a/policy.xml": text})
    assert result.suppressed == () and result.unused == ()


def test_bad_comments_are_all_reported_at_once() -> None:
    text = RETRIES.replace("GETs only: no body to re-send", "").replace(
        "<inbound>", "<!-- toolkit: ignore APIM999 why --><inbound>")
    with pytest.raises(InputError) as caught:
        lint({"apis/a/policy.xml": text})
    assert "apis/a/policy.xml:2: unknown lint rule 'APIM999'" in caught.value.message
    assert "apis/a/policy.xml:4: the suppression of APIM022 gives no reason" in caught.value.message
    assert caught.value.exit_code == 3


@pytest.mark.parametrize(("pattern", "covered"), [
    ("apis/a/policy.xml", True),
    ("apis/*", True),  # * crosses /
    ("apis/b/*", False),
    ("APIS/A/POLICY.XML", False),  # paths are compared as written
    ("*/policy.xml", True),
    ("policy.xml", False),
])
def test_a_config_suppression_covers_the_paths_its_pattern_matches(pattern: str, covered: bool) -> None:
    rule = Suppression(("APIM022",), "why", "toolkit.yaml:3", path=pattern)
    result = lint({"apis/a/policy.xml": RETRIES.replace("toolkit: ignore", "not an ignore")}, root_label="tree",
                  suppressions=[rule])
    assert len(result.suppressed) == (2 if covered else 0)
    assert (result.unused == ()) is covered


def test_a_config_suppression_matches_the_rule_code_only() -> None:
    rule = Suppression(("APIM023",), "why", "toolkit.yaml:3", path="*")
    result = lint({"apis/a/policy.xml": RETRIES.replace("toolkit: ignore", "x")}, suppressions=[rule])
    assert result.suppressed == () and result.unused == (rule,)


def test_every_suppression_that_matches_is_used_and_the_first_one_is_named() -> None:
    finding = Finding("APIM022", Severity.WARNING, "tree/apis/a/policy.xml", 6, "m")
    first = Suppression(("APIM022",), "one", "toolkit.yaml:3", path="apis/*")
    second = Suppression(("APIM022",), "two", "toolkit.yaml:4", path="*")
    third = Suppression(("APIM022",), "three", "toolkit.yaml:5", path="backends/*")
    active, suppressed, unused = split_findings([finding], [first, second, third],
                                                lambda file: file.removeprefix("tree/"))
    assert active == [] and [s.suppression for s in suppressed] == [first] and unused == [third]


def test_an_inline_suppression_covers_its_own_file_only() -> None:
    rule = Suppression(("APIM022",), "why", "a.xml:1", file="a.xml", lines=(5, 9))
    assert rule.covers(Finding("APIM022", Severity.WARNING, "a.xml", 5, "m"), "a.xml")
    assert rule.covers(Finding("APIM022", Severity.WARNING, "a.xml", 9, "m"), "a.xml")
    assert not rule.covers(Finding("APIM022", Severity.WARNING, "a.xml", 4, "m"), "a.xml")
    assert not rule.covers(Finding("APIM022", Severity.WARNING, "a.xml", 10, "m"), "a.xml")
    assert not rule.covers(Finding("APIM022", Severity.WARNING, "b.xml", 6, "m"), "b.xml")


def test_suppressed_findings_do_not_count_toward_the_exit_code() -> None:
    rule = Suppression(("APIM022",), "why", "toolkit.yaml:3", path="*")
    result = lint({"apis/a/policy.xml": RETRIES.replace("toolkit: ignore", "x")}, suppressions=[rule])
    assert result.warnings == [] and len(result.suppressed) == 2
    assert result.exit_code("warning") == 0


@pytest.mark.parametrize("written", ["APIM022: why", "APIM022 - why", "APIM022, why", "apim022 why", "APIM022 — why"])
def test_the_reason_follows_the_codes_after_an_optional_separator(written: str) -> None:
    result = lint({"apis/a/policy.xml": RETRIES.replace("APIM022 GETs only: no body to re-send", written)})
    assert {s.suppression.reason for s in result.suppressed} == {"why"}
