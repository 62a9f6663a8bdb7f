"""APIM040: an API without operations (no specification, or one that declares none)."""

from __future__ import annotations

from collections.abc import Iterator

from toolkit.artifacts.specification import SpecificationError, operations_of
from toolkit.lint.core import Finding, LintContext, Rule, Severity


class ApiWithoutOperations(Rule):
    """An API has no operations: APIM answers every call with 404 (``OperationNotFound``).

    APIM routes a request to an operation by method and URL template; an API without operations
    matches nothing. The APIOps extractor writes the operations as ``apis/<api>/specification.json``
    (or ``.yaml``); without it, or with a document that declares no operation, the API is unusable.

    Anti-pattern:
        apis/chat/apiInformation.json      (and no specification beside it)

    Best practice:
        apis/chat/specification.json       (OpenAPI 3 with POST /openai/deployments/{deployment-id}/chat/completions ...;
                                            toolkit.yaml: spec: azure-openai-inference)
    """

    code = "APIM040"
    name = "api-without-operations"
    severity = Severity.WARNING
    summary = "An API has no operations, so APIM answers every call with 404."

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """Each API without a specification, and each specification without operations (or not OpenAPI 3)."""
        for name, api in sorted(ctx.apis.items()):
            spec = ctx.specifications.get(name)
            if spec is None:
                yield self.finding(api.file, 1, f"API '{api.path.split('/')[1]}' has no specification beside it, so it "
                                                "has no operations and APIM answers every call with 404 "
                                                "(add specification.json, or spec: in toolkit.yaml)")
                continue
            try:
                operations = operations_of(spec.text)
            except SpecificationError as exc:
                yield self.finding(spec.file, exc.line or 1, f"{exc}: APIM cannot import its operations")
                continue
            if not operations:
                yield self.finding(spec.file, 1, "the specification declares no operations (paths with methods), "
                                                 "so APIM answers every call with 404")
