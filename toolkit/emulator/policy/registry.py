"""Which policy elements the emulator runs, where APIM allows them, and the COVERAGE table.

Each handler class declares itself with ``@handler("element", sections=..., attributes=...,
required=..., children=...)``; the decorator only attaches a `HandlerSpec` to the class (no
global state). `HandlerRegistry` is built from an explicit list of classes
(`handlers.BUILTIN_HANDLERS`) and frozen, so nothing registers by import side effect.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeVar

SECTIONS: tuple[str, ...] = ("inbound", "backend", "outbound", "on-error")
SCOPES: tuple[str, ...] = ("global", "product", "api", "operation", "fragment")
POLICIES = "policies"  # `children=POLICIES`: the children are policy elements of the same section

T = TypeVar("T")


@dataclass(frozen=True)
class HandlerSpec:
    """What the compiler checks before a handler sees an element."""

    name: str
    sections: frozenset[str]
    attributes: frozenset[str]
    required: frozenset[str]
    children: frozenset[str] | str | None  # None: no child elements; POLICIES; or allowed child names
    text: bool  # whether the element may hold text (a value or a body)
    scopes: frozenset[str]
    once_per_section: bool
    notes: str  # emulator behaviour and deviations, for COVERAGE.md


def handler(
    name: str,
    *,
    sections: Iterable[str],
    attributes: Iterable[str] = (),
    required: Iterable[str] = (),
    children: Iterable[str] | str | None = None,
    text: bool = False,
    scopes: Iterable[str] = SCOPES,
    once_per_section: bool = False,
    notes: str = "",
) -> Callable[[T], T]:
    """Declare the policy element a handler class runs (attaches ``cls.spec``)."""
    section_set = frozenset(sections)
    attribute_set = frozenset(attributes)
    required_set = frozenset(required)
    if not section_set <= set(SECTIONS):
        raise ValueError(f"{name}: unknown sections {sorted(section_set - set(SECTIONS))}")
    if not required_set <= attribute_set:
        raise ValueError(f"{name}: required attributes {sorted(required_set - attribute_set)} are not declared")
    if not frozenset(scopes) <= set(SCOPES):
        raise ValueError(f"{name}: unknown scopes {sorted(set(scopes) - set(SCOPES))}")
    child_spec = children if children is None or isinstance(children, str) else frozenset(children)
    if isinstance(child_spec, str) and child_spec != POLICIES:
        raise ValueError(f"{name}: children must be None, POLICIES or a set of element names")

    def decorate(cls: T) -> T:
        cls.spec = HandlerSpec(  # type: ignore[attr-defined]
            name, section_set, attribute_set, required_set, child_spec, text, frozenset(scopes),
            once_per_section, notes,
        )
        return cls

    return decorate


class HandlerRegistry:
    """Element name → handler class; frozen after `freeze()` (duplicates are refused)."""

    def __init__(self, classes: Iterable[Any] = ()) -> None:
        self._handlers: dict[str, Any] = {}
        self._frozen = False
        for cls in classes:
            self.add(cls)

    def add(self, cls: Any) -> None:
        """Register a handler class carrying a ``spec``."""
        if self._frozen:
            raise RuntimeError("the handler registry is frozen")
        spec = getattr(cls, "spec", None)
        if not isinstance(spec, HandlerSpec):
            raise TypeError(f"{cls!r} is not decorated with @handler")
        if spec.name in self._handlers:
            raise ValueError(f"two handlers for <{spec.name}>")
        self._handlers[spec.name] = cls

    def freeze(self) -> HandlerRegistry:
        """Refuse further registrations; returns self."""
        self._frozen = True
        self._handlers = MappingProxyType(self._handlers)  # type: ignore[assignment]
        return self

    @property
    def frozen(self) -> bool:
        """Whether `freeze` was called."""
        return self._frozen

    def get(self, name: str) -> Any | None:
        """The handler class of an element, or None."""
        return self._handlers.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._handlers

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._handlers))

    def __len__(self) -> int:
        return len(self._handlers)

    def specs(self) -> list[HandlerSpec]:
        """Every spec, sorted by element name."""
        return [self._handlers[name].spec for name in sorted(self._handlers)]


def _children_text(spec: HandlerSpec) -> str:
    if spec.children is None:
        return "–"
    if spec.children == POLICIES:
        return "policies"
    return ", ".join(sorted(spec.children))


def coverage_rows(registry: HandlerRegistry) -> list[dict[str, str]]:
    """One row per element: sections, attributes (required ones marked *), children, notes."""
    rows = []
    for spec in registry.specs():
        attributes = ", ".join(f"{a}*" if a in spec.required else a for a in sorted(spec.attributes))
        rows.append({
            "element": spec.name,
            "sections": ", ".join(s for s in SECTIONS if s in spec.sections),
            "attributes": attributes or "–",
            "children": _children_text(spec),
            "notes": spec.notes,
        })
    return rows


def coverage_markdown(registry: HandlerRegistry) -> str:
    """COVERAGE.md: the policy elements the emulator runs (anything else is refused at publish)."""
    lines = [
        "# Policy coverage of the emulator",
        "",
        "Generated from the handler registry (`toolkit.emulator.policy.coverage_markdown`). Elements,",
        "attributes and child elements not listed here are refused at publish time with their line.",
        "`*` marks a required attribute.",
        "",
        "| element | sections | attributes | children | notes |",
        "|---|---|---|---|---|",
    ]
    for row in coverage_rows(registry):
        notes = re.sub(r"(<[a-z][^>]*>)", r"`\1`", row["notes"])  # so Markdown shows <when>, not HTML
        cells = [f"`{row['element']}`", row["sections"], row["attributes"], row["children"], notes]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
