"""APIM022: forward-request inside retry without buffer-request-body="true"."""

from __future__ import annotations

from collections.abc import Iterator

from toolkit.artifacts.policy_xml import local_name
from toolkit.lint.core import Finding, LintContext, Rule, Severity


class RetryUnbufferedBody(Rule):
    """A <forward-request> inside <retry> does not set ``buffer-request-body="true"``.

    APIM documents that with ``buffer-request-body="true"`` the request "is buffered and will be
    reused on retry" (forward-request policy reference); without it the body is streamed to the
    backend once, and a retried attempt goes out without it (the local emulator sends it empty), so
    the retry that should move a chat completion to the next pool member fails instead.
    (buffer-request-body is an attribute of forward-request, not of set-backend-service; its
    default is false.)

    A warning, not an error: APIM accepts the document, the first attempt is sent whole, and a
    retried request without a body (GET) or a retry that never re-sends (a forward-request with
    ``fail-on-error-status-code="true"`` goes to on-error instead) is fine. Accept it on purpose
    with ``lint: ignore:`` in toolkit.yaml or ``<!-- toolkit: ignore APIM022 reason -->``.

    Anti-pattern:
        <retry condition="@(context.Response.StatusCode == 429)" count="2" interval="0">
            <forward-request />
        </retry>

    Best practice:
        <retry condition="@(context.Response.StatusCode == 429)" count="2" interval="0">
            <forward-request buffer-request-body="true" />
        </retry>
    """

    code = "APIM022"
    name = "retry-unbuffered-body"
    severity = Severity.WARNING
    summary = 'A retried forward-request should set buffer-request-body="true".'

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """Each forward-request under a retry without body buffering."""
        for document, forward in ctx.policy_elements("forward-request"):
            if not any(local_name(ancestor) == "retry" for ancestor in forward.iterancestors()):
                continue
            raw = forward.get("buffer-request-body")
            value = ctx.resolve(raw) if raw is not None else "false"
            if value is None:  # an expression or an unknown named value: decided at request time
                continue
            if value.strip().lower() != "true":
                yield self.finding(
                    document.file,
                    forward.sourceline,
                    '<forward-request> inside <retry> lacks buffer-request-body="true": retried attempts are sent without the request body',
                )
