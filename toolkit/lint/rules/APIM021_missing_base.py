"""APIM021: API or operation policy section without <base/>."""

from __future__ import annotations

from collections.abc import Iterator

from toolkit.lint.core import Finding, LintContext, Rule, Scope, Severity


class MissingBase(Rule):
    """A section of an API or operation policy has no <base/>.

    Without <base/> the policies of the enclosing scope (global, product, API) do not run for
    that section: a global JWT check, header scrubbing or error handling silently stops
    applying. A <backend> that forwards by itself (<forward-request>, e.g. inside <retry>) is
    exempt; one that neither forwards nor inherits never reaches the backend. Sections that are
    absent are not reported; global policies and fragments have no enclosing scope.

    Anti-pattern:
        <policies>
            <inbound><set-backend-service backend-id="aoai-pool" /></inbound>
            <outbound />
        </policies>

    Best practice:
        <policies>
            <inbound><base /><set-backend-service backend-id="aoai-pool" /></inbound>
            <backend><retry ...><forward-request buffer-request-body="true" /></retry></backend>
            <outbound><base /></outbound>
            <on-error><base /></on-error>
        </policies>
    """

    code = "APIM021"
    name = "missing-base"
    severity = Severity.WARNING
    summary = "An API or operation policy section does not inherit the enclosing scope with <base/>."

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """Sections lacking <base/> (backend exempt when it forwards)."""
        for document in ctx.policies:
            if document.scope not in (Scope.API, Scope.OPERATION):
                continue
            for name, section in document.sections().items():
                if any(True for _ in section.iter("base")):
                    continue
                forwards = any(True for _ in section.iter("forward-request"))
                if name == "backend":
                    if forwards:
                        continue
                    message = (
                        f"<backend> of the {document.scope.value} policy has neither <base/> nor <forward-request>: "
                        "the enclosing scope's forwarding does not run"
                    )
                else:
                    message = (
                        f"<{name}> of the {document.scope.value} policy has no <base/>: "
                        f"the enclosing scope's <{name}> policies do not run"
                    )
                yield self.finding(document.file, section.sourceline, message)
