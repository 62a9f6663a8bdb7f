"""APIM043: an api-key (or another credential) written as a literal in an artifact."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

from toolkit.artifacts.policy_xml import is_expression, local_name
from toolkit.lint.core import NAMED_VALUE_REFERENCE, Finding, LintContext, Rule, Severity
from toolkit.report.redact import is_credential_name


def _is_reference(value: object) -> bool:
    """A {{named value}} or a policy expression (a literal around a reference, "Bearer {{token}}", counts too)."""
    text = str(value).strip()
    return bool(NAMED_VALUE_REFERENCE.search(text)) or is_expression(text)


def literal_query_credentials(url: object) -> list[str]:
    """The names of a URL's query parameters that carry a credential written as a literal (``?code=abc``)."""
    try:
        query = urlsplit(str(url)).query
    except ValueError:
        return []
    return [name for name, value in parse_qsl(query, keep_blank_values=False)
            if is_credential_name(name) and not _is_reference(value)]


class ApiKeyLiteral(Rule):
    """An ``api-key`` (or another credential) is written in clear in a backend or a policy.

    Artifacts are committed and published by pipelines: a key written in them leaks to everyone
    with read access and cannot be rotated without a commit. Keep it in a secret (or Key Vault)
    named value and reference it as ``{{name}}``. Checked: backend credentials (header and query)
    whose name says they carry a credential (api-key, Ocp-Apim-Subscription-Key, Authorization,
    code, sig, ...), such query parameters in a backend's URL, in ``set-backend-service``'s
    ``base-url`` and in ``send-request``'s ``set-url``, and ``set-header`` / ``set-query-parameter``
    of such a name. A value holding a ``{{named value}}`` or an expression is not a literal.

    Anti-pattern:
        "credentials": {"header": {"api-key": ["0123456789abcdef"]}}
        "url": "https://fn.azurewebsites.net/api/embed?code=abc123"

    Best practice:
        "credentials": {"header": {"api-key": ["{{aoai-api-key}}"]}}   (named value aoai-api-key: secret or keyVault)
        "credentials": {"query": {"code": ["{{embed-function-key}}"]}}
    """

    code = "APIM043"
    name = "api-key-literal"
    severity = Severity.ERROR
    summary = "An api-key or another credential is written as a literal instead of a {{named value}}."

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        """Literal credentials in backends (credentials, URL query) and in policies (headers, query, URLs)."""
        advice = "keep the key in a secret or Key Vault named value and write {{name}}"
        for _, backend in sorted(ctx.backends.items()):
            credentials = backend.properties.get("credentials")
            for part in ("header", "query") if isinstance(credentials, dict) else ():
                values = credentials.get(part) if isinstance(credentials.get(part), dict) else {}
                for name, listed in values.items():
                    literal = [v for v in (listed if isinstance(listed, list) else [listed]) if not _is_reference(v)]
                    if is_credential_name(str(name)) and literal:
                        yield self.finding(backend.file, backend.prop_line("credentials", part, name),
                                           f"backend '{backend.name}' sends a literal {str(name).lower()}: {advice}")
            for name in literal_query_credentials(backend.properties.get("url", "")):
                yield self.finding(backend.file, backend.prop_line("url"),
                                   f"backend '{backend.name}' has a literal {name} in its URL's query: send it as a "
                                   f"credentials.query value instead, and {advice}")
        for document, element in ctx.policy_elements("set-header", "set-query-parameter"):
            name = str(element.get("name", ""))
            if not is_credential_name(name):
                continue
            for value in element:
                if local_name(value) == "value" and value.text and not _is_reference(value.text):
                    yield self.finding(document.file, value.sourceline,
                                       f"<{local_name(element)} name=\"{name.lower()}\"> has a literal value: use a "
                                       "secret named value ({{name}})")
        for document, element in ctx.policy_elements("set-backend-service", "set-url"):
            url = element.get("base-url") if local_name(element) == "set-backend-service" else element.text
            for name in literal_query_credentials(url or ""):
                yield self.finding(document.file, element.sourceline,
                                   f"<{local_name(element)}> has a literal {name} in its URL's query: use a secret "
                                   "named value ({{name}})")
