"""Accepting a lint finding on purpose: suppressions with a reason, from toolkit.yaml or an XML comment.

Two sources, one rule each way (as ruff's ``noqa`` and checkov's ``skip=CHECK:reason`` do):

- ``lint.ignore`` in toolkit.yaml: ``{rule: APIM022, path: "policy fragments/retry-with-payg/*", reason: ...}``;
  ``path`` is an fnmatch pattern over the file's path inside the tree (``*`` also crosses ``/``).
- ``<!-- toolkit: ignore APIM022[,APIMnnn] reason -->`` in a policy document: it covers the element that
  follows it (the element and everything inside it); before the root element it covers the whole document.

A suppression without a reason, or naming a rule that does not exist, is bad input (exit 3). A suppressed
finding is still reported, as suppressed; a suppression that matched nothing is reported as unused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase

from lxml import etree

from toolkit.errors import InputError
from toolkit.lint.core import UNPARSEABLE, Finding
from toolkit.lint.views import PolicyDocument

INLINE = re.compile(r"^\s*toolkit\s*:\s*ignore\b(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)
_CODES = re.compile(r"^\s*(?P<codes>[A-Za-z]+\d+(?:\s*,\s*[A-Za-z]+\d+)*)\s*[:,;\-\u2013\u2014]?\s*(?P<reason>.*)$", re.DOTALL)
RULE_CODE = re.compile(r"^APIM\d{3}$")


@dataclass(frozen=True)
class Suppression:
    """One accepted rule: where it was written (``source``, ``file:line``), what it covers, and why.

    Either ``path`` (a pattern over tree paths, from toolkit.yaml) or ``file`` with ``lines`` (an inline
    comment: the document as findings name it, and the first and last line of the element it covers).
    """

    rules: tuple[str, ...]
    reason: str
    source: str
    path: str | None = None
    file: str | None = None
    lines: tuple[int, int] | None = None

    def covers(self, finding: Finding, relpath: str) -> bool:
        """Whether this suppression accepts ``finding`` (found in the tree file ``relpath``)."""
        if finding.code not in self.rules:
            return False
        if self.path is not None:
            return fnmatchcase(relpath, self.path)
        return self.file == finding.file and self.lines is not None and self.lines[0] <= finding.line <= self.lines[1]

    def describe(self) -> str:
        """``APIM022 at 'pattern'`` or ``APIM022 on lines 3-9``: what it covers, for reports."""
        codes = ",".join(self.rules)
        if self.path is not None:
            return f"{codes} at '{self.path}'"
        if self.lines is None:
            return f"{codes} (followed by no element)"
        first, last = self.lines
        return f"{codes} on line {first}" if first == last else f"{codes} on lines {first}-{last}"

    def to_dict(self) -> dict[str, object]:
        """{rules, reason, source, path | lines} with plain JSON types."""
        data: dict[str, object] = {"rules": list(self.rules), "reason": self.reason, "source": self.source}
        if self.path is not None:
            data["path"] = self.path
        elif self.lines is not None:
            data["lines"] = list(self.lines)
        return data


@dataclass(frozen=True)
class SuppressedFinding:
    """A finding a suppression accepted (still reported, as suppressed)."""

    finding: Finding
    suppression: Suppression

    def to_dict(self) -> dict[str, object]:
        """The finding's fields plus ``reason`` and ``suppressed_by`` (where the suppression is written)."""
        return {**self.finding.to_dict(), "reason": self.suppression.reason, "suppressed_by": self.suppression.source}


def check_rule(code: str, where: str) -> str:
    """``code`` upper-cased when it names a rule that a suppression may accept; InputError otherwise."""
    from toolkit.lint.registry import REGISTRY

    upper = code.strip().upper()
    if upper == UNPARSEABLE:
        raise InputError(f"{where}: {UNPARSEABLE} cannot be suppressed: a file toolkit cannot read is never published")
    if upper not in REGISTRY:
        raise InputError(f"{where}: unknown lint rule {code.strip()!r}",
                         hint="`toolkit lint` lists rule codes; they look like APIM022")
    return upper


def inline_suppressions(documents: Iterable[PolicyDocument]) -> list[Suppression]:
    """Every ``<!-- toolkit: ignore ... -->`` comment of the policy documents; InputError listing every bad one."""
    found: list[Suppression] = []
    problems: list[str] = []
    for document in documents:
        for comment in _comments(document.root):
            match = INLINE.match(comment.text or "")
            if match is None:
                continue
            where = f"{document.file}:{comment.sourceline}"
            try:
                found.append(_parse_inline(match.group("rest"), where, document.file, _covered_lines(comment)))
            except InputError as exc:
                problems.append(exc.message)
    if problems:
        raise InputError("bad lint suppression comment" + ("s" if len(problems) > 1 else "") + ":\n  "
                         + "\n  ".join(problems),
                         hint='write <!-- toolkit: ignore APIM022 why this is accepted --> before the element')
    return found


def _parse_inline(text: str, where: str, file: str, lines: tuple[int, int] | None) -> Suppression:
    match = _CODES.match(text)
    if match is None:
        raise InputError(f"{where}: 'toolkit: ignore' names no rule (e.g. toolkit: ignore APIM022 <reason>)")
    rules = tuple(check_rule(code, where) for code in match.group("codes").split(","))
    reason = " ".join(match.group("reason").split())
    if not reason:
        raise InputError(f"{where}: the suppression of {','.join(rules)} gives no reason (write why it is accepted)")
    return Suppression(rules, reason, where, file=file, lines=lines)


def _comments(root: etree._Element) -> Iterator[etree._Element]:
    """The comments before the root element and inside it, in document order."""
    yield from reversed([node for node in root.itersiblings(preceding=True) if isinstance(node, etree._Comment)])
    yield from root.iter(etree.Comment)


def _covered_lines(comment: etree._Element) -> tuple[int, int] | None:
    """First and last line of the element after ``comment`` (None when no element follows it)."""
    target = next((node for node in comment.itersiblings() if not isinstance(node, etree._Comment | etree._ProcessingInstruction)), None)
    if target is None:
        return None
    lines = [node.sourceline for node in target.iter() if node.sourceline is not None]
    return (min(lines), max(lines)) if lines else None


def split_findings(
    findings: Iterable[Finding], suppressions: Iterable[Suppression], relpath_of: Callable[[str], str]
) -> tuple[list[Finding], list[SuppressedFinding], list[Suppression]]:
    """(active findings, suppressed findings, unused suppressions). ``relpath_of`` maps a finding's file to its tree path."""
    rules = list(suppressions)
    used: set[int] = set()
    active: list[Finding] = []
    suppressed: list[SuppressedFinding] = []
    for finding in findings:
        relpath = relpath_of(finding.file)
        index = next((i for i, rule in enumerate(rules) if rule.covers(finding, relpath)), None)
        if index is None:
            active.append(finding)
            continue
        used.update(i for i, rule in enumerate(rules) if rule.covers(finding, relpath))
        suppressed.append(SuppressedFinding(finding, rules[index]))
    return active, sorted(suppressed, key=lambda item: item.finding), [rule for i, rule in enumerate(rules) if i not in used]
