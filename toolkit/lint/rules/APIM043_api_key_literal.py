"""APIM043: an api-key written as a literal in an artifact."""

from __future__ import annotations

from collections.abc import Iterator

from toolkit.artifacts.policy_xml import is_expression, local_name
from toolkit.lint.core import NAMED_VALUE_REFERENCE, Finding, LintContext, Rule, Severity


def _is_reference(value: object) -> bool:
    text = str(value).strip()
    return bool(NAMED_VALUE_REFERENCE.fullmatch(text)) or is_expression(text)


class ApiKeyLiteral(Rule):
    """An ``api-key`` is written in clear in a backend's credentials or a policy.

    Artifacts are committed and published by pipelines: a key written in them leaks to everyone
    with read access and cannot be rotated without a commit. Keep it in a secret (or Key Vault)
    named value and reference it as ``{{name}}``.

    Anti-pattern:
        "credentials": {"header": {"api-key": ["0123456789abcdef"]}}

    Best practice:
        "credentials": {"header": {"api-key": ["{{aoai-api-key}}"]}}   (named value aoai-api-key: secret or keyVault)
    """

    code = "APIM043"
    name = "api-key-literal"
    severity = Severity.ERROR
    summary = "An api-key is written as a literal instead of a {{named value}}."

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """Literal api-key values in backend credentials (header or query) and in set-header/set-query-parameter."""
        for _, backend in sorted(ctx.backends.items()):
            credentials = backend.properties.get("credentials")
            if not isinstance(credentials, dict):
                continue
            for part in ("header", "query"):
                values = credentials.get(part) if isinstance(credentials.get(part), dict) else {}
                for name, listed in values.items():
                    literal = [v for v in (listed if isinstance(listed, list) else [listed]) if not _is_reference(v)]
                    if str(name).lower() == "api-key" and literal:
                        yield self.finding(backend.file, backend.prop_line("credentials", part, name),
                                           f"backend '{backend.name}' sends a literal api-key: keep the key in a secret "
                                           "or Key Vault named value and write {{name}}")
        for document, element in ctx.policy_elements("set-header", "set-query-parameter"):
            if str(element.get("name", "")).lower() != "api-key":
                continue
            for value in element:
                if local_name(value) == "value" and value.text and not _is_reference(value.text):
                    yield self.finding(document.file, value.sourceline,
                                       f"<{local_name(element)} name=\"api-key\"> has a literal value: use a secret "
                                       "named value ({{name}})")
