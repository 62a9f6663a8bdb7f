"""APIM032: a policy statement whose element APIM does not document."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from lxml import etree

from toolkit.artifacts.policy_xml import SECTIONS, local_name
from toolkit.emulator.policy.apim_reference import APIM_ELEMENTS
from toolkit.lint.core import Finding, LintContext, Rule, Scope, Severity

KNOWN = APIM_ELEMENTS | {"base"}
# Policies whose children are policy statements of the same section (the emulator compiles them with
# ``cc.policies``); <choose>'s are inside its <when>/<otherwise>. Other policies' children are their settings.
CONTAINERS = frozenset({"retry", "wait", "limit-concurrency", "return-response", "when", "otherwise"})


def statements(parent: etree._Element) -> Iterator[etree._Element]:
    """The policy statements under a section or fragment, in document order, nested ones included."""
    for child in parent.iterchildren(tag=etree.Element):
        yield child
        name = local_name(child)
        if name == "choose":
            for branch in child.iterchildren(tag=etree.Element):
                if local_name(branch) in CONTAINERS:
                    yield from statements(branch)
        elif name in CONTAINERS:
            yield from statements(child)


class UnknownPolicyElement(Rule):
    """A policy statement is an element APIM does not document (a typo, or a made-up policy).

    APIM refuses a policy document with an unknown element, so the publish fails. Judged: the
    statements of each section (inbound, backend, outbound, on-error) and of each fragment, including
    those nested in <choose>'s <when>/<otherwise>, <retry>, <wait>, <limit-concurrency> and
    <return-response>; a policy's own child elements (<set-header>'s <value>, ...) are its settings and
    are not judged. The message names the closest known element when one is close.

    A warning, not an error: the list of elements APIM documents (toolkit.emulator.policy.apim_reference)
    can lag behind a policy APIM has just added, and an error would then block a valid tree with no
    way through but a suppression. ``plan``/``apply`` still write the tree; APIM then refuses it.

    Anti-pattern:
        <inbound>
            <base />
            <set-heder name="x-request-id" exists-action="override"><value>@(context.RequestId)</value></set-heder>
        </inbound>

    Best practice:
        <inbound>
            <base />
            <set-header name="x-request-id" exists-action="override"><value>@(context.RequestId)</value></set-header>
        </inbound>
    """

    code = "APIM032"
    name = "unknown-policy-element"
    severity = Severity.WARNING
    summary = "A policy statement is an element APIM does not document, so APIM refuses the document."
    explains_refusals = True

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """Each unknown statement, with the closest known name when there is one."""
        for document in ctx.policies:
            if document.scope is Scope.FRAGMENT:
                parents = [document.root]
            else:
                parents = [child for child in document.root.iterchildren(tag=etree.Element) if local_name(child) in SECTIONS]
            for parent in parents:
                for element in statements(parent):
                    name = local_name(element)
                    if name in KNOWN:
                        continue
                    close = difflib.get_close_matches(name, sorted(KNOWN), n=1, cutoff=0.75)
                    hint = f" (did you mean <{close[0]}>?)" if close else ""
                    yield self.finding(document.file, element.sourceline,
                                       f"<{name}> is not a policy element APIM documents{hint}; APIM refuses unknown elements")
