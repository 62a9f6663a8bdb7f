"""Parsed, read-only views of the documents in an artifact tree, shared by every lint rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from enum import Enum
from typing import Any

from lxml import etree

from toolkit.artifacts.layout import Kind
from toolkit.artifacts.policy_xml import SECTIONS, iter_policy_elements, local_name, section_of
from toolkit.lint.jsonlines import JsonPath, key_lines, line_of


def member_backend_name(member_id: str) -> str:
    """The backend a pool member id names: the last path segment of a full ARM id or ``/backends/<name>``."""
    return member_id.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class SourceFile:
    """One artifact as read: its kind, relative path, display name (with the root label) and text."""

    kind: Kind
    path: str
    file: str
    text: str


@dataclass
class JsonDocument:
    """A JSON information file: its path, display name, text and parsed content."""

    path: str
    file: str
    text: str
    data: Any
    _lines: dict[JsonPath, int] | None = field(default=None, repr=False)

    @property
    def properties(self) -> dict[str, Any]:
        """The ``properties`` object APIOps stores ({} when absent or not an object)."""
        props = self.data.get("properties") if isinstance(self.data, dict) else None
        return props if isinstance(props, dict) else {}

    def line(self, *keys: str | int) -> int:
        """The line of a key path such as ``("properties", "pool", "services", 0, "weight")`` (or its nearest parent)."""
        if self._lines is None:
            try:
                self._lines = key_lines(self.text)
            except RecursionError:  # absurdly deep JSON: line 1 is good enough
                self._lines = {}
        return line_of(self._lines, keys)

    def prop_line(self, *keys: str | int) -> int:
        """The line of a key path under ``properties``."""
        return self.line("properties", *keys)


@dataclass(frozen=True)
class PoolMember:
    """One entry of ``pool.services``: its index, raw entry, id and the backend name the id resolves to."""

    index: int
    entry: Any
    id: str | None
    backend: str | None

    @property
    def label(self) -> str:
        """How messages name the member."""
        return f"member {self.index + 1}" + (f" ('{self.backend}')" if self.backend else "")


@dataclass
class BackendDocument(JsonDocument):
    """backends/<name>/backendInformation.json: a single backend or a pool."""

    name: str = ""

    @property
    def is_pool(self) -> bool:
        """``type: Pool`` (or a ``pool`` object with no type, as some hand-written trees have)."""
        kind = self.properties.get("type")
        if isinstance(kind, str):
            return kind.lower() == "pool"
        return "pool" in self.properties

    @property
    def services(self) -> Any:
        """The raw ``pool.services`` value (None when absent)."""
        pool = self.properties.get("pool")
        return pool.get("services") if isinstance(pool, dict) else None

    @cached_property
    def members(self) -> list[PoolMember]:
        """The pool's members (empty for single backends or a malformed services list)."""
        services = self.services
        if not isinstance(services, list):
            return []
        members = []
        for index, entry in enumerate(services):
            raw_id = entry.get("id") if isinstance(entry, dict) else None
            member_id = raw_id if isinstance(raw_id, str) and raw_id.strip() else None
            members.append(PoolMember(index, entry, member_id, member_backend_name(member_id) if member_id else None))
        return members

    @property
    def url(self) -> str | None:
        """The backend URL, if it is a string."""
        url = self.properties.get("url")
        return url if isinstance(url, str) else None

    @property
    def breaker_rules(self) -> list[Any]:
        """``circuitBreaker.rules`` ([] when absent or malformed)."""
        breaker = self.properties.get("circuitBreaker")
        rules = breaker.get("rules") if isinstance(breaker, dict) else None
        return rules if isinstance(rules, list) else []


@dataclass
class NamedValueDocument(JsonDocument):
    """named values/<name>/namedValueInformation.json."""

    name: str = ""

    @property
    def display_name(self) -> str | None:
        """``displayName``, which is what ``{{...}}`` references use in APIM."""
        value = self.properties.get("displayName")
        return value if isinstance(value, str) else None

    @property
    def plain_value(self) -> str | None:
        """The value when it is stored in the tree and not secret (None for secrets and Key Vault references)."""
        value = self.properties.get("value")
        if self.properties.get("secret") is True or not isinstance(value, str):
            return None
        return value


class Scope(str, Enum):
    """Where a policy document applies."""

    GLOBAL = "global"
    API = "api"
    OPERATION = "operation"
    FRAGMENT = "fragment"


@dataclass
class PolicyDocument:
    """A parsed policy document with source lines."""

    path: str
    file: str
    text: str
    root: etree._Element
    scope: Scope
    name: str = ""

    def elements(self, *names: str) -> list[etree._Element]:
        """Elements in document order, optionally only those with the given local names."""
        return list(iter_policy_elements(self.root, *names))

    def sections(self) -> dict[str, etree._Element]:
        """The section elements (inbound/backend/outbound/on-error) present, by name (first one wins)."""
        found: dict[str, etree._Element] = {}
        if self.scope is Scope.FRAGMENT:
            return found
        for child in self.root.iterchildren(tag=etree.Element):
            name = local_name(child)
            if name in SECTIONS:
                found.setdefault(name, child)
        return found

    @staticmethod
    def section_of(element: etree._Element) -> str | None:
        """The section holding ``element`` (None in fragments or outside sections)."""
        return section_of(element)
