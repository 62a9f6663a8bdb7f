"""The lint engine's data types: severities, findings, the rule base class and the shared context.

Findings are data, never exceptions: a malformed file becomes an APIM000 finding and the other
files are still checked.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from functools import total_ordering
from typing import Any, ClassVar

from lxml import etree

from toolkit.artifacts.layout import Kind
from toolkit.artifacts.model import ArtifactSet
from toolkit.artifacts.policy_xml import PolicyXmlError, is_expression, local_name, parse_policy
from toolkit.json_kinds import json_kind
from toolkit.lint.views import (
    BackendDocument,
    JsonDocument,
    NamedValueDocument,
    PolicyDocument,
    Scope,
    SourceFile,
    member_backend_name,
)

UNPARSEABLE = "APIM000"
NAMED_VALUE_REFERENCE = re.compile(r"\{\{([A-Za-z0-9._-]+)\}\}")

_POLICY_SCOPES = {
    Kind.GLOBAL_POLICY: Scope.GLOBAL,
    Kind.API_POLICY: Scope.API,
    Kind.OPERATION_POLICY: Scope.OPERATION,
    Kind.FRAGMENT_POLICY: Scope.FRAGMENT,
}


class Severity(str, Enum):
    """How bad a finding is; ordered error > warning > info."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """2 for error, 1 for warning, 0 for info."""
        return {"error": 2, "warning": 1, "info": 0}[self.value]

    @classmethod
    def parse(cls, value: Severity | str) -> Severity:
        """A Severity from itself or its name (ValueError for anything else)."""
        return value if isinstance(value, Severity) else cls(str(value).lower())


@total_ordering
@dataclass(frozen=True)
class Finding:
    """One rule violation at a file and line; sorts by file, line, code.

    ``on_target`` names a resource (kind, name) the tree refers to but does not hold: offline it is an
    error, and `plan`/`apply --artifacts` accept it when the target has that resource (created outside
    the tree, e.g. by Bicep).
    """

    code: str
    severity: Severity
    file: str
    line: int
    message: str
    on_target: tuple[Kind, str] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        # Text from the tree (names, ids, undecodable file names) may hold lone surrogates, which no
        # output encoding accepts: show them as \udXXX escapes instead of failing to print the report.
        object.__setattr__(self, "file", printable(self.file))
        object.__setattr__(self, "message", printable(self.message))

    def sort_key(self) -> tuple[str, int, str, str]:
        """(file, line, code, message)."""
        return (self.file, self.line, self.code, self.message)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Finding):
            return NotImplemented
        return self.sort_key() < other.sort_key()

    def to_dict(self) -> dict[str, Any]:
        """{code, severity, file, line, message} with plain JSON types."""
        return {"code": self.code, "severity": self.severity.value, "file": self.file, "line": self.line, "message": self.message}


class Rule:
    """Base class of lint rules: one subclass per module under toolkit/lint/rules/.

    Subclasses set ``code`` (APIMnnn), ``name`` (kebab-case), ``severity`` and ``summary``, and
    document the bad form under "Anti-pattern" and the good form under "Best practice". A rule with
    ``explains_refusals`` reports something APIM refuses at publish; a general rule with ``defers_to_others``
    (APIM034) drops a finding where such a rule's finding stands at the same file and line: the specific
    rule explains the refusal better.
    """

    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    severity: ClassVar[Severity] = Severity.ERROR
    summary: ClassVar[str] = ""
    explains_refusals: ClassVar[bool] = False
    defers_to_others: ClassVar[bool] = False

    def check(self, ctx: LintContext) -> Iterable[Finding]:
        """The findings of this rule on the tree in ``ctx``."""
        raise NotImplementedError

    def finding(self, file: str, line: int | None, message: str, *, on_target: tuple[Kind, str] | None = None) -> Finding:
        """A finding of this rule (line defaults to 1); ``on_target``: see :class:`Finding`."""
        return Finding(self.code, self.severity, file, line or 1, message, on_target)

    @classmethod
    def description(cls) -> str:
        """The docstring, dedented: the long description with the anti-pattern and the best practice."""
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def module_name(cls) -> str:
        """The module name the rule must live in: ``APIMnnn_snake_name``."""
        return f"{cls.code}_{cls.name.replace('-', '_')}"


class LintContext:
    """Every document of a tree parsed once, plus lookups the rules share.

    Attributes: ``backends`` (by lower-case name), ``policies`` (all policy documents, fragments
    included), ``fragments`` and ``named_values`` (by lower-case name and display name),
    ``documents`` (every artifact's path, display name and text), ``problems`` (APIM000
    findings), ``has_backends`` / ``has_named_values`` (the tree has those folders at all).
    """

    def __init__(self, artifacts: ArtifactSet, *, root_label: str = "", problems: Iterable[Finding] = ()) -> None:
        self.root_label = root_label.rstrip("/\\")
        self.problems: list[Finding] = list(problems)
        self.backends: dict[str, BackendDocument] = {}
        self.policies: list[PolicyDocument] = []
        self.fragments: dict[str, PolicyDocument] = {}
        self.named_values: dict[str, NamedValueDocument] = {}
        self.specifications: dict[str, SourceFile] = {}
        self.apis: dict[str, JsonDocument] = {}
        self.documents: list[SourceFile] = []
        self.has_backends = False
        self.has_named_values = False
        self._backend_folders: set[str] = set()
        self._named_value_folders: set[str] = set()
        for apath, text in artifacts.artifacts():
            self._add(apath.kind, apath.name, apath.relpath, text)

    # -- building ------------------------------------------------------------------------------

    def _add(self, kind: Kind, name: str, path: str, text: str) -> None:
        file = self.file(path)
        self.documents.append(SourceFile(kind, path, file, text))
        if kind is Kind.BACKEND:
            self.has_backends = True
            self._backend_folders.add(name.lower())
        elif kind is Kind.NAMED_VALUE:
            self.has_named_values = True
            self._named_value_folders.add(name.lower())
        if kind.is_policy:
            self._add_policy(kind, name, path, file, text)
            return
        if kind is Kind.SPECIFICATION:  # JSON or YAML; the rules that need it parse it (APIM040)
            self.specifications[name.lower()] = SourceFile(kind, path, file, text)
            return
        data = self._parse_json(file, text)
        if data is None:
            return
        if kind is Kind.BACKEND:
            self.backends[name.lower()] = BackendDocument(path, file, text, data, name=name)
        elif kind is Kind.API:
            self.apis[name.lower()] = JsonDocument(path, file, text, data)
        elif kind is Kind.NAMED_VALUE:
            document = NamedValueDocument(path, file, text, data, name=name)
            self.named_values.setdefault(name.lower(), document)
            if document.display_name:
                self.named_values.setdefault(document.display_name.lower(), document)

    def _parse_json(self, file: str, text: str) -> Any | None:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            self.problems.append(self._unparseable(file, exc.lineno, f"invalid JSON: {exc.msg} (column {exc.colno})"))
            return None
        except RecursionError:
            self.problems.append(self._unparseable(file, 1, "invalid JSON: nested too deeply"))
            return None
        except ValueError as exc:  # e.g. an integer over Python's 4,300-digit conversion limit
            self.problems.append(self._unparseable(file, 1, f"invalid JSON: {_number_reason(exc)}"))
            return None
        if not isinstance(data, dict):
            self.problems.append(self._unparseable(file, 1, 'an information file must be a JSON object ({"properties": {...}})'))
            return None
        if data and not isinstance(data.get("properties"), dict):  # {} sets nothing; anything else needs properties
            # publish refuses it (exit 3) before writing anything; other rules read it as empty properties
            found = f", got {json_kind(data['properties'])}" if "properties" in data else " (it is missing)"
            line = JsonDocument("", file, text, data).line("properties")
            self.problems.append(self._unparseable(file, line, f'properties must be an object ({{"properties": {{...}}}}){found}'))
        return data

    def _add_policy(self, kind: Kind, name: str, path: str, file: str, text: str) -> None:
        try:
            root = parse_policy(text, file)
        except PolicyXmlError as exc:
            self.problems.append(self._unparseable(file, exc.line, f"invalid policy XML: {exc.reason}"))
            return
        scope = _POLICY_SCOPES[kind]
        expected = "fragment" if scope is Scope.FRAGMENT else "policies"
        if local_name(root) != expected:
            message = f"the root element is <{local_name(root)}>; a {scope.value} policy must have <{expected}>"
            self.problems.append(self._unparseable(file, root.sourceline, message))
            return
        document = PolicyDocument(path, file, text, root, scope, name)
        self.policies.append(document)
        if scope is Scope.FRAGMENT:
            self.fragments[name.lower()] = document

    @staticmethod
    def _unparseable(file: str, line: int | None, message: str) -> Finding:
        return Finding(UNPARSEABLE, Severity.ERROR, file, line or 1, message)

    # -- lookups -------------------------------------------------------------------------------

    def file(self, path: str) -> str:
        """How findings name an artifact: ``<root_label>/<relpath>`` (or just the relpath)."""
        return f"{self.root_label}/{path}" if self.root_label else path

    def backend(self, backend_id: str) -> BackendDocument | None:
        """The backend a backend-id or pool member id (full ARM id, ``/backends/<n>`` or a name) resolves to."""
        return self.backends.get(member_backend_name(backend_id).lower())

    def backend_exists(self, backend_id: str) -> bool:
        """True when the tree has a backend folder for ``backend_id`` (even one whose JSON is malformed)."""
        return member_backend_name(backend_id).lower() in self._backend_folders

    def backend_names(self) -> list[str]:
        """The names of every backend in the tree, sorted."""
        return sorted(document.name for document in self.backends.values())

    def pool_size(self, backend_id: str) -> int | None:
        """How many members the pool ``backend_id`` has (None when it is not a pool in this tree)."""
        document = self.backend(backend_id)
        if document is None or not document.is_pool:
            return None
        return len(document.members)

    def named_value(self, reference: str) -> NamedValueDocument | None:
        """The named value a ``{{reference}}`` names (by name or display name, case-insensitive)."""
        return self.named_values.get(reference.lower())

    def named_value_exists(self, reference: str) -> bool:
        """True when ``{{reference}}`` names a named value folder or display name in the tree."""
        return reference.lower() in self._named_value_folders or self.named_value(reference) is not None

    def resolve(self, value: str | None) -> str | None:
        """``value`` with ``{{named values}}`` substituted; None for expressions or unresolvable references."""
        if value is None or is_expression(value):
            return None
        unresolved = False

        def substitute(match: re.Match[str]) -> str:
            nonlocal unresolved
            document = self.named_value(match.group(1))
            plain = document.plain_value if document else None
            if plain is None:
                unresolved = True
                return match.group(0)
            return plain

        resolved = NAMED_VALUE_REFERENCE.sub(substitute, value)
        return None if unresolved or is_expression(resolved) else resolved

    def policy_elements(self, *names: str, fragments: bool = True) -> Iterator[tuple[PolicyDocument, etree._Element]]:
        """(document, element) for every element with one of ``names`` across all policy documents."""
        for document in self.policies:
            if fragments or document.scope is not Scope.FRAGMENT:
                for element in document.elements(*names):
                    yield document, element


def printable(text: str) -> str:
    """``text`` with anything UTF-8 cannot encode (lone surrogates) as a backslash escape."""
    return text if text.isascii() else text.encode("utf-8", "backslashreplace").decode("utf-8")


def _number_reason(exc: ValueError) -> str:
    """A short reason for a JSON value Python refuses to convert (the message names an internal knob)."""
    digits = re.search(r"value has (\d+) digits", str(exc))
    if digits:
        return f"a number with {digits.group(1)} digits is too long"
    return str(exc).split(";")[0]


def number(value: str | None) -> float | None:
    """``value`` as a finite number, or None when it is absent or not a number."""
    if value is None:
        return None
    try:
        result = float(value.strip())
    except ValueError:
        return None
    return result if result == result and abs(result) != float("inf") else None


def integer(value: Any) -> int | None:
    """A JSON value as an int when it is an integer (booleans and floats with a fraction are not)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


__all__ = [
    "UNPARSEABLE",
    "BackendDocument",
    "Finding",
    "JsonDocument",
    "LintContext",
    "NamedValueDocument",
    "PolicyDocument",
    "Rule",
    "Scope",
    "Severity",
    "SourceFile",
    "integer",
    "number",
]
