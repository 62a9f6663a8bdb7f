"""APIM025: backend-id that names no backend of the tree."""

from __future__ import annotations

from collections.abc import Iterator

from toolkit.artifacts.layout import Kind
from toolkit.artifacts.policy_xml import local_name
from toolkit.lint.core import Finding, LintContext, Rule, Severity

# Element -> the attribute holding a backend id.
BACKEND_ID_ATTRIBUTES = {
    "set-backend-service": "backend-id",
    "azure-openai-semantic-cache-lookup": "embeddings-backend-id",
    "llm-semantic-cache-lookup": "embeddings-backend-id",
}
_SHOWN = 8


class BackendIdUnknown(Rule):
    """A ``backend-id`` or ``embeddings-backend-id`` names no backend of the tree.

    APIM refuses to save a policy referencing a backend that does not exist, and the APIOps
    publisher orders policies after the backends they name. ``{{named values}}`` are resolved
    from the tree when possible; expressions are not judged. A tree without any backends/
    folder is not checked (its backends are managed elsewhere). A backend created outside the
    tree (by Bicep, say) is accepted by ``plan``/``apply --artifacts`` when the target already
    has it; one on neither is refused before anything is written.

    Anti-pattern:
        <set-backend-service backend-id="openai-pool" />    (backends/ has aoai-pool only)

    Best practice:
        <set-backend-service backend-id="aoai-pool" />      (backends/aoai-pool/backendInformation.json exists)
    """

    code = "APIM025"
    name = "backend-id-unknown"
    severity = Severity.ERROR
    summary = "A backend-id in a policy names no backend of the tree."
    explains_refusals = True

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """Each resolvable backend id with no backend folder."""
        if not ctx.has_backends:
            return
        known = ctx.backend_names()
        listing = ", ".join(known[:_SHOWN]) + (", ..." if len(known) > _SHOWN else "")
        for document, element in ctx.policy_elements(*BACKEND_ID_ATTRIBUTES):
            attribute = BACKEND_ID_ATTRIBUTES[local_name(element)]
            backend_id = ctx.resolve(element.get(attribute))
            if backend_id is None or ctx.backend_exists(backend_id):
                continue
            yield self.finding(
                document.file,
                element.sourceline,
                f"<{local_name(element)} {attribute}=\"{backend_id}\"> names no backend in backends/ (known: {listing or 'none'}; "
                "apply accepts it if the target has it)",
                on_target=(Kind.BACKEND, backend_id),
            )
