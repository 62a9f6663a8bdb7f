"""Publish-time compilation of policy documents: everything APIM would refuse is refused here.

`compile_policy` parses the XML safely, substitutes ``{{named-value}}`` references in attribute
values and text (after parsing, so a value can never inject XML), and compiles each element with
its handler. Refused, with the element, attribute or expression and the line: unknown elements,
unknown or missing attributes, elements in a section (or scope) APIM does not allow them in,
malformed values, unknown named values, fragments and (when ``backends`` is given) backends,
and expressions outside the emulator's subset. Nothing is silently ignored.

Emulator decisions: a section missing from a document behaves like ``<base/>`` (at global scope,
like the global default: ``<backend><forward-request/></backend>``, other sections empty);
``<base/>`` must be a direct child of its section, at most once, and is refused in fragments.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from lxml import etree

from toolkit.artifacts.policy_xml import PolicyXmlError, local_name, parse_policy
from toolkit.emulator.policy.apim_reference import APIM_ATTRIBUTES, APIM_CHILDREN, APIM_ELEMENTS, emulator_limit
from toolkit.emulator.policy.attributes import AttributeReader
from toolkit.emulator.policy.document import FRAGMENT, Block, CompiledPolicy, Policy
from toolkit.emulator.policy.errors import PolicyRejected
from toolkit.emulator.policy.registry import POLICIES, SCOPES, SECTIONS

if TYPE_CHECKING:
    from toolkit.emulator.policy.registry import HandlerRegistry

_POLICY_ID = frozenset({"id"})  # every policy may carry an id (context.LastError.PolicyId)


def compile_policy(
    xml: str,
    scope: str,
    *,
    named_values: Mapping[str, str] | None = None,
    fragments: Mapping[str, CompiledPolicy | str] | None = None,
    backends: Collection[str] | None = None,
    registry: HandlerRegistry | None = None,
    file: str = "policy.xml",
) -> CompiledPolicy:
    """Compile a policy document (scope global | product | api | operation | fragment) or raise PolicyRejected.

    ``fragments`` maps fragment ids to compiled fragments or their XML; ``backends``, when given,
    lists the backend ids a constant ``backend-id`` may name.
    """
    scope = str(getattr(scope, "value", scope))  # a management PolicyScope is accepted too
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    if registry is None:
        from toolkit.emulator.policy.handlers import default_registry

        registry = default_registry()
    try:
        root = parse_policy(xml, file)
    except PolicyXmlError as exc:
        raise PolicyRejected(exc.reason, exc.line) from None
    compiler = Compiler(registry, scope, named_values or {}, fragments or {}, backends)
    return compiler.compile_document(root)


def validate_policy(xml: str, scope: str, **options: Any) -> None:
    """Raise PolicyRejected when APIM would refuse the document (the management plane's check)."""
    compile_policy(xml, scope, **options)


def policy_validator(
    *,
    named_values: Callable[[], Mapping[str, str]] = dict,
    fragments: Callable[[], Mapping[str, CompiledPolicy | str]] = dict,
    backends: Callable[[], Collection[str] | None] = lambda: None,
) -> Callable[[str, Any], None]:
    """A management-plane ``PolicyValidator(xml, scope)`` compiling against the plane's current state."""

    def validate(xml: str, scope: Any) -> None:
        compile_policy(xml, scope, named_values=named_values(), fragments=fragments(), backends=backends())

    return validate


class Compiler(AttributeReader):
    """Compiles one document: structure and sections here, attribute reads in `AttributeReader`."""

    def __init__(
        self,
        registry: HandlerRegistry,
        scope: str,
        named_values: Mapping[str, str],
        fragments: Mapping[str, CompiledPolicy | str],
        backends: Collection[str] | None,
    ) -> None:
        super().__init__(named_values)
        self.registry = registry
        self.scope = scope
        self.fragments = fragments
        self.backends = backends
        self.section: str | None = None  # None while compiling a fragment
        self.depth = 0  # 0: a direct child of the section
        self.response_target = False  # inside <return-response>: set-* act on the new response
        self._counts: dict[str, int] = {}
        self._fragment_elements: list[tuple[Any, int | None]] = []

    # -- documents --------------------------------------------------------------------------------

    def compile_document(self, root: etree._Element) -> CompiledPolicy:
        """Compile the root element (``<policies>`` or, for a fragment, ``<fragment>``)."""
        expected = "fragment" if self.scope == FRAGMENT else "policies"
        name = local_name(root)
        if name != expected:
            raise self.reject(root, f"the root element must be <{expected}> at {self.scope} scope, not <{name}>")
        self.check_attributes(root, ())
        if self.scope == FRAGMENT:
            body = self._block(root)
            return CompiledPolicy(FRAGMENT, {FRAGMENT: body}, tuple(self._fragment_elements))
        sections: dict[str, Block] = {}
        for child in self.child_elements(root, SECTIONS):
            section = local_name(child)
            if section in sections:
                raise self.reject(child, f"the <{section}> section appears twice")
            self.check_attributes(child, ())
            self.section, self._counts = section, {}
            sections[section] = self._block(child)
        for section in SECTIONS:
            if section not in sections:
                sections[section] = self._default_section(section)
        self.section = None
        return CompiledPolicy(self.scope, sections)

    def _default_section(self, section: str) -> Block:
        self.section, self._counts = section, {}
        if self.scope != "global":
            return (self.compile_element(etree.fromstring("<base/>")),)
        if section == "backend":
            return (self.compile_element(etree.fromstring("<forward-request/>")),)
        return ()

    def _block(self, parent: etree._Element, check_section: bool = True) -> Block:
        children = self.child_elements(parent, None)
        return tuple(self.compile_element(child, check_section=check_section) for child in children)

    def policies(self, parent: etree._Element, *, response_target: bool = False) -> Block:
        """Compile the children of a container policy (retry, when, ...) as policies of the same section.

        ``response_target`` (return-response): the children build the new response, so the
        sections they may appear in are not checked (return-response's own are).
        """
        self.depth += 1
        saved, self.response_target = self.response_target, response_target or self.response_target
        try:
            return self._block(parent, check_section=not response_target)
        finally:
            self.depth -= 1
            self.response_target = saved

    # -- elements ---------------------------------------------------------------------------------

    def compile_element(self, element: etree._Element, *, check_section: bool = True) -> Policy:
        """Check an element against its handler's spec, then let the handler compile it."""
        name = local_name(element)
        if "}" in str(element.tag):
            raise self.reject(element, f"<{name}> has an XML namespace; policy elements have none")
        cls = self.registry.get(name)
        if cls is None and name in APIM_ELEMENTS:
            raise self.reject(element, emulator_limit(f"<{name}>"))
        if cls is None:
            raise self.reject(element, f"unknown policy element <{name}>")
        spec = cls.spec
        if self.scope not in spec.scopes:
            raise self.reject(element, f"<{name}> is not allowed at {self.scope} scope")
        if check_section:
            self._check_section(element, spec)
        self.check_attributes(element, spec.attributes | _POLICY_ID, spec.required)
        if spec.children is None:
            self.child_elements(element, (), text=spec.text)
        elif spec.children == POLICIES:
            self.child_elements(element, None, text=spec.text)
        else:
            self.child_elements(element, spec.children, text=spec.text)
        policy = cls.compile(element, self)
        policy.line = element.sourceline
        policy.policy_id = element.get("id")
        return policy

    def _check_section(self, element: etree._Element, spec: Any) -> None:
        if self.section is None:  # a fragment: checked where it is included
            self._fragment_elements.append((spec, element.sourceline))
            return
        problem = self._section_problem(spec)
        if problem is not None:
            raise self.reject(element, problem)

    def _section_problem(self, spec: Any) -> str | None:
        """Why element ``spec`` may not stand here (the current section; once per section), or None; counts it."""
        name = spec.name
        if self.section not in spec.sections:
            allowed = ", ".join(s for s in SECTIONS if s in spec.sections)
            return f"<{name}> is not allowed in the {self.section} section (allowed: {allowed})"
        if spec.once_per_section:
            self._counts[name] = self._counts.get(name, 0) + 1
            if self._counts[name] > 1:
                return f"<{name}> may appear only once in the {self.section} section"
        return None

    def check_attributes(
        self, element: etree._Element, allowed: Iterable[str], required: Iterable[str] = ()
    ) -> None:
        """Refuse attributes outside ``allowed`` and missing ``required`` ones."""
        name = local_name(element)
        allowed_set = set(allowed)
        for attribute in element.attrib:
            if attribute not in allowed_set and attribute in APIM_ATTRIBUTES.get(name, ()):
                raise self.reject(element, emulator_limit(f"attribute '{attribute}' of <{name}>"))
            if attribute not in allowed_set:
                supported = ", ".join(sorted(allowed_set)) or "none"
                raise self.reject(
                    element, f"<{name}> attribute '{attribute}' is not supported (supported: {supported})"
                )
        for attribute in sorted(required):
            if element.get(attribute) is None:
                raise self.reject(element, f"<{name}> is missing the required attribute '{attribute}'")

    def child_elements(
        self, element: etree._Element, allowed: Iterable[str] | None, *, text: bool = False
    ) -> list[etree._Element]:
        """The element children (comments skipped); refuses names outside ``allowed`` and stray text."""
        name = local_name(element)
        if not text and (element.text or "").strip():
            raise self.reject(element, f"<{name}> may not contain text")
        allowed_set = None if allowed is None else set(allowed)
        children = []
        for child in element:
            if (child.tail or "").strip() and not text:
                raise self.reject(child, f"<{name}> may not contain text")
            if not isinstance(child.tag, str):
                continue
            child_name = local_name(child)
            if allowed_set is not None and child_name not in allowed_set and child_name in APIM_CHILDREN.get(name, ()):
                raise self.reject(child, emulator_limit(f"<{child_name}> inside <{name}>"))
            if allowed_set is not None and child_name not in allowed_set:
                if not allowed_set:
                    raise self.reject(child, f"<{name}> may not contain child elements (found <{child_name}>)")
                expected = ", ".join(f"<{n}>" for n in sorted(allowed_set))
                raise self.reject(child, f"<{child_name}> is not allowed inside <{name}> (allowed: {expected})")
            children.append(child)
        return children

    def backend_reference(self, element: etree._Element, name: str, backend_id: str) -> None:
        """Refuse a constant backend id that names no backend (when the backends are known)."""
        if self.backends is not None and backend_id not in self.backends:
            raise self.reject(element, f"<{local_name(element)}> attribute '{name}': backend '{backend_id}' does not exist")

    def fragment(self, element: etree._Element, fragment_id: str) -> CompiledPolicy:
        """The compiled fragment ``fragment_id``, checked against the current section (fragments do not nest)."""
        source = self.fragments.get(fragment_id)
        if source is None:
            raise self.reject(element, f"policy fragment '{fragment_id}' does not exist")
        if isinstance(source, CompiledPolicy):
            compiled = source
        else:
            compiler = Compiler(self.registry, FRAGMENT, self.named_values, self.fragments, self.backends)
            try:
                compiled = compiler.compile_document(_parse_fragment(source, fragment_id))
            except PolicyRejected as exc:
                raise self.reject(element, f"policy fragment '{fragment_id}', line {exc.line}: {exc.reason}") from None
        # What a fragment holds is judged as if it stood where it is included: the section, the scope of the
        # including document, and the elements allowed once per section (counted with the section's own).
        for spec, line in compiled.elements:
            problem = (f"<{spec.name}> is not allowed at {self.scope} scope" if self.scope not in spec.scopes
                       else self._section_problem(spec))
            if problem is not None:
                raise self.reject(element, f"policy fragment '{fragment_id}' holds <{spec.name}> (its line {line}): "
                                           f"{problem}")
        return compiled


def _parse_fragment(xml: str, fragment_id: str) -> etree._Element:
    try:
        return parse_policy(xml, f"policy fragments/{fragment_id}/policy.xml")
    except PolicyXmlError as exc:
        raise PolicyRejected(exc.reason, exc.line) from None
