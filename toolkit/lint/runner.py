"""Run the rules over an artifact tree: parse every file once, collect findings, sort them."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from toolkit.artifacts.io import read_text
from toolkit.artifacts.layout import ArtifactPath
from toolkit.artifacts.model import ArtifactSet
from toolkit.errors import EXIT_FINDINGS, EXIT_OK, ArtifactError
from toolkit.lint.core import UNPARSEABLE, Finding, LintContext, Rule, Severity
from toolkit.lint.registry import all_rules
from toolkit.lint.suppressions import SuppressedFinding, Suppression, inline_suppressions, split_findings


@dataclass(frozen=True)
class LintResult:
    """The findings of one lint run (sorted by file, line, code) and how many files were read.

    ``suppressed`` are findings a suppression accepted (reported, never counted as errors or warnings);
    ``unused`` are suppressions that matched no finding (reported; they fail ``--fail-severity warning``).
    """

    findings: tuple[Finding, ...]
    files: int = 0
    suppressed: tuple[SuppressedFinding, ...] = ()
    unused: tuple[Suppression, ...] = ()

    def by_severity(self, severity: Severity | str) -> list[Finding]:
        """The findings of exactly one severity."""
        wanted = Severity.parse(severity)
        return [finding for finding in self.findings if finding.severity is wanted]

    @property
    def errors(self) -> list[Finding]:
        """Error findings."""
        return self.by_severity(Severity.ERROR)

    @property
    def warnings(self) -> list[Finding]:
        """Warning findings."""
        return self.by_severity(Severity.WARNING)

    @property
    def infos(self) -> list[Finding]:
        """Info findings."""
        return self.by_severity(Severity.INFO)

    def exit_code(self, fail_severity: Severity | str = Severity.ERROR) -> int:
        """1 when any finding is at or above ``fail_severity`` (an unused suppression counts as a warning), else 0."""
        threshold = Severity.parse(fail_severity).rank
        failing = any(f.severity.rank >= threshold for f in self.findings)
        stale = bool(self.unused) and Severity.WARNING.rank >= threshold
        return EXIT_FINDINGS if failing or stale else EXIT_OK


def lint_tree(
    artifacts: ArtifactSet,
    *,
    root_label: str = "",
    rules: Sequence[Rule] | None = None,
    problems: Iterable[Finding] = (),
    suppressions: Iterable[Suppression] = (),
) -> LintResult:
    """Lint an in-memory tree. ``root_label`` prefixes file names in findings (e.g. "apimartifacts");
    ``problems`` are findings found while reading (unreadable files); ``suppressions`` (from toolkit.yaml)
    and the tree's ``<!-- toolkit: ignore -->`` comments accept findings (InputError on a bad comment)."""
    unreadable = list(problems)
    ctx = LintContext(artifacts, root_label=root_label, problems=unreadable)
    findings: set[Finding] = set()
    general: set[Finding] = set()
    explained: set[tuple[str, int]] = set()  # where a rule explaining a publish refusal reported one
    for rule in all_rules() if rules is None else rules:
        found = set(rule.check(ctx))
        (general if rule.defers_to_others else findings).update(found)
        if rule.explains_refusals:
            explained.update((finding.file, finding.line) for finding in found)
    findings |= {finding for finding in general if (finding.file, finding.line) not in explained}
    accepted = [*suppressions, *inline_suppressions(ctx.policies)]
    prefix = f"{ctx.root_label}/" if ctx.root_label else ""
    active, suppressed, unused = split_findings(sorted(findings), accepted, lambda file: file.removeprefix(prefix))
    return LintResult(tuple(active), files=len(artifacts) + len(unreadable), suppressed=tuple(suppressed),
                      unused=tuple(unused))


def lint_path(path: str | os.PathLike[str], *, suppressions: Iterable[Suppression] = ()) -> LintResult:
    """Lint an APIOps folder on disk; an unreadable file (not UTF-8, too large) is an APIM000 finding.

    Raises ArtifactError when ``path`` is not a folder.
    """
    base = Path(path)
    if not base.is_dir():
        raise ArtifactError(f"{base}: not a folder", hint="pass the APIOps artifact folder, e.g. apimartifacts")
    label = os.fspath(path).rstrip("/\\")
    label = "" if label in ("", ".") else label
    files: dict[str, str] = {}
    problems: list[Finding] = []
    for file in sorted(base.rglob("*")):
        relpath = file.relative_to(base).as_posix()
        if ArtifactPath.parse(relpath) is None:
            continue
        try:
            files[relpath] = read_text(file)
        except ArtifactError as exc:
            reason = exc.message.removeprefix(f"{file}: ")
            shown = f"{label}/{relpath}" if label else relpath
            problems.append(Finding(UNPARSEABLE, Severity.ERROR, shown, 1, f"cannot read: {reason}"))
    return lint_tree(ArtifactSet(files), root_label=label, problems=problems, suppressions=suppressions)
