"""APIM033: a <wait> directly inside a <retry>."""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from toolkit.artifacts.policy_xml import local_name
from toolkit.lint.core import Finding, LintContext, Rule, Severity


class WaitInRetry(Rule):
    """A ``<retry>`` holds a ``<wait>`` among its policies.

    APIM's retry "may contain any other policies as its child elements, except for wait policy"
    (retry-policy.md), and refuses the document when publishing. Send the parallel requests outside
    the retry, or retry each ``send-request`` inside the ``<wait>`` instead.

    Anti-pattern:
        <retry condition="@(context.Response.StatusCode == 429)" count="2" interval="1">
            <wait for="all">
                <send-request mode="new" response-variable-name="a">...</send-request>
            </wait>
            <forward-request />
        </retry>

    Best practice:
        <wait for="all">
            <send-request mode="new" response-variable-name="a">...</send-request>
        </wait>
        <retry condition="@(context.Response.StatusCode == 429)" count="2" interval="1">
            <forward-request />
        </retry>
    """

    code = "APIM033"
    name = "wait-in-retry"
    severity = Severity.ERROR
    summary = "A <retry> holds a <wait>, which APIM refuses."
    explains_refusals = True

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """Each <wait> that is a child of a <retry>."""
        for document, retry in ctx.policy_elements("retry"):
            for child in retry.iterchildren(tag=etree.Element):
                if local_name(child) == "wait":
                    yield self.finding(document.file, child.sourceline,
                                       "<retry> may contain any policy except <wait>: APIM refuses the document")
