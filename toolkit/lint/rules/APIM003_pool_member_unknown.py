"""APIM003: pool member that names no backend of the tree."""

from __future__ import annotations

from collections.abc import Iterator

from toolkit.artifacts.layout import Kind
from toolkit.lint.core import Finding, LintContext, Rule, Severity


class PoolMemberUnknown(Rule):
    """A pool member has no ``id``, or its id names no backend in the tree's ``backends/`` folder.

    APIM only accepts members that reference an existing backend, and the APIOps publisher
    orders a pool after its members by taking the last segment of each id. Both id forms
    resolve the same way: a full ARM id (``/subscriptions/.../service/<apim>/backends/<name>``)
    and the short ``/backends/<name>``. Always an error offline: a pool lives in ``backends/``, so
    that folder exists whenever this rule can fire; a tree extracted with a backend filter must
    include the members of the pools it keeps, or publishing to a fresh instance fails.
    A member created outside the tree (by Bicep, say) is accepted by ``plan``/``apply --artifacts``
    when the target already has that backend; a member on neither is refused before anything is written.

    Anti-pattern:
        backends/aoai-pool/backendInformation.json lists {"id": "/backends/aoai-eastus"}
        but there is no backends/aoai-eastus/backendInformation.json

    Best practice:
        Every member id ends in the name of a backend folder of the same tree:
        {"id": "/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.ApiManagement/service/<apim>/backends/aoai-eastus"}
        with backends/aoai-eastus/backendInformation.json present.
    """

    code = "APIM003"
    name = "pool-member-unknown"
    severity = Severity.ERROR
    summary = "A pool member id does not resolve to a backend of the tree."

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """Members without an id, and members whose backend is missing."""
        for backend in ctx.backends.values():
            if not backend.is_pool:
                continue
            for member in backend.members:
                line = backend.prop_line("pool", "services", member.index, "id")
                if member.id is None:
                    yield self.finding(backend.file, line, f"pool '{backend.name}' {member.label} has no id")
                elif not ctx.backend_exists(member.id):
                    yield self.finding(
                        backend.file,
                        line,
                        f"pool '{backend.name}' {member.label}: id '{member.id}' names backend '{member.backend}', "
                        "which is not in backends/ of this tree (apply accepts it if the target has it)",
                        on_target=(Kind.BACKEND, member.backend),
                    )
