"""What validate-jwt and validate-azure-ad-token share: token source, claim lists, failures.

Failures go through on-error with APIM's documented validate-jwt reasons (TokenNotPresent,
TokenExpired, ...; api-management-error-handling-policies.md); the default response is the
configured status (401) with the configured message, else the validator's message.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from toolkit.artifacts.policy_xml import local_name
from toolkit.emulator.jwt_validation import ClaimRequirement, JwtValidationError, token_from_header
from toolkit.emulator.policy.errors import PolicyError, json_error_body
from toolkit.emulator.policy.values import IntSetting, text_of

_APIM_REASONS = {
    "not_present": "TokenNotPresent",
    "wrong_scheme": "TokenNotPresent",
    "bad_signature": "TokenSignatureInvalid",
    "audience": "TokenAudienceNotAllowed",
    "issuer": "TokenIssuerNotAllowed",
    "expired": "TokenExpired",
    "unknown_kid": "TokenSignatureKeyNotFound",
    "claim_missing": "TokenClaimNotFound",
    "claim_mismatch": "TokenClaimValueNotAllowed",
}
TOKEN_ATTRIBUTES = ("header-name", "query-parameter-name", "token-value")


class TokenSource:
    """Where the token is: a header (optionally with a required scheme), a query parameter, or a value."""

    __slots__ = ("header", "query", "value", "scheme")

    def __init__(self, header: Any, query: Any, value: Any, scheme: str | None) -> None:
        self.header = header
        self.query = query
        self.value = value
        self.scheme = scheme

    @classmethod
    def compile(cls, element: Any, cc: Any, *, default_header: str | None, scheme: str | None = None,
                expressions: bool = False) -> TokenSource:
        """At most one of header-name / query-parameter-name / token-value (one is required without a default).

        ``expressions``: header-name and query-parameter-name may be policy expressions (validate-azure-ad-token).
        """
        given = [name for name in TOKEN_ATTRIBUTES if element.get(name) is not None]
        tag = local_name(element)
        if len(given) > 1:
            raise cc.reject(element, f"<{tag}> takes only one of {', '.join(TOKEN_ATTRIBUTES)}")
        if not given and default_header is None:
            raise cc.reject(element, f"<{tag}> needs one of {', '.join(TOKEN_ATTRIBUTES)}")

        def name_of(attribute: str) -> Any:
            return cc.value(element, attribute, expect="string") if expressions else cc.constant(element, attribute)

        header = name_of("header-name") if given else default_header
        return cls(header, name_of("query-parameter-name"), cc.value(element, "token-value", expect="string"), scheme)

    def extract(self, ctx: Any) -> str | None:
        """The token (raises JwtValidationError when the required scheme is missing)."""
        if self.header is not None:
            header = text_or_constant(self.header, ctx)
            # APIM checks the scheme only in the Authorization header.
            scheme = self.scheme if header.lower() == "authorization" else None
            return token_from_header(ctx.request_header(header), scheme)
        if self.query is not None:
            values = parse_qs(ctx.request_query).get(text_or_constant(self.query, ctx))
            return values[0] if values else None
        return text_of(self.value, ctx) or None


def text_or_constant(value: Any, ctx: Any) -> str:
    """A constant string as is, a compiled value for this request."""
    return value if isinstance(value, str) else text_of(value, ctx)


def texts_of(values: tuple[Any, ...], ctx: Any) -> tuple[str, ...]:
    """`text_list` values (constants or expressions) for this request."""
    return tuple(text_or_constant(value, ctx) for value in values)


def text_list(container: Any, item: str, cc: Any, *, expressions: bool = False) -> tuple[Any, ...]:
    """The texts of ``<container><item>text</item>...</container>`` (named values substituted): strings, and
    with ``expressions`` compiled expressions evaluated per request (`texts_of`)."""
    cc.check_attributes(container, ())
    texts: list[Any] = []
    for child in cc.child_elements(container, (item,)):
        cc.check_attributes(child, ())
        cc.child_elements(child, (), text=True)
        text = cc.text(child)
        if not text:
            raise cc.reject(child, f"<{item}> is empty")
        if text.startswith(("@(", "@{")):
            if not expressions:
                raise cc.reject(child, f"<{item}>: policy expressions are not allowed here")
            texts.append(cc.text_value(child, expect="string"))
        else:
            texts.append(text)
    return tuple(texts)


def required_claims(container: Any, cc: Any) -> tuple[ClaimRequirement, ...]:
    """``<required-claims><claim name match separator><value/>...</claim></required-claims>``."""
    cc.check_attributes(container, ())
    claims = []
    for claim in cc.child_elements(container, ("claim",)):
        cc.check_attributes(claim, ("name", "match", "separator"), ("name",))
        name = cc.constant(claim, "name").strip()
        if not name:
            raise cc.reject(claim, "<claim> attribute 'name' is empty")
        match = cc.choice(claim, "match", ("all", "any"), "all")
        separator = cc.constant(claim, "separator")
        claims.append(ClaimRequirement(name, text_list_items(claim, cc), match, separator or None))
    return tuple(claims)


def text_list_items(claim: Any, cc: Any) -> tuple[str, ...]:
    """The ``<value>`` texts of a ``<claim>``."""
    values = []
    for value in cc.child_elements(claim, ("value",)):
        cc.check_attributes(value, ())
        cc.child_elements(value, (), text=True)
        values.append(cc.text(value))
    return tuple(values)


def single_children(element: Any, allowed: tuple[str, ...], cc: Any) -> dict[str, list[Any]]:
    """Children grouped by name; each of ``allowed`` except ``openid-config`` at most once."""
    groups: dict[str, list[Any]] = {}
    for child in cc.child_elements(element, allowed):
        name = local_name(child)
        if name != "openid-config" and name in groups:
            raise cc.reject(child, f"<{name}> appears twice in <{local_name(element)}>")
        groups.setdefault(name, []).append(child)
    return groups


# Reasons whose documented default message is "<message from jwt library>. Access denied."
_ACCESS_DENIED = frozenset({"bad_signature", "audience", "issuer", "expired", "unknown_kid"})


def default_failure_message(error: JwtValidationError) -> str:
    """The default failure message in the pattern APIM documents per reason.

    api-management-error-handling-policies.md, "Predefined errors for policies" (validate-jwt rows):
    "<message from jwt library>. Access denied." for signature, audience, issuer, expiry and unknown
    key; "JWT token is missing the following claims: <c1>, <c2>, … Access denied."; "Claim {claim-name}
    value of {claim-value} is not allowed. Access denied."; other failures the library's message alone.
    A missing token keeps "JWT not present." (validate-jwt-policy.md, failed-validation-error-message).
    """
    if error.reason in _ACCESS_DENIED:
        return error.message.rstrip(".") + ". Access denied."
    if error.reason == "claim_missing" and error.claim:
        return f"JWT token is missing the following claims: {error.claim}. Access denied."
    if error.reason == "claim_mismatch" and error.claim:
        return f"Claim {error.claim} value of {error.value} is not allowed. Access denied."
    return error.message


def configured_failure(source: str, error: JwtValidationError, status: IntSetting, message: Any, ctx: Any
                       ) -> PolicyError:
    """`validation_failure` with failed-validation-httpcode / -error-message (constants or expressions) evaluated."""
    text = text_of(message, ctx) if message is not None else None
    return validation_failure(source, error, status.get(ctx, source), text)


def validation_failure(source: str, error: JwtValidationError, status: int, message: str | None) -> PolicyError:
    """The on-error error for a failed token (LastError.Message is the validator's message)."""
    body = json_error_body(status, message or default_failure_message(error))
    return PolicyError(error.message, source=source, reason=_APIM_REASONS.get(error.reason, "JwtInvalid"),
                       status=status, headers=[("content-type", "application/json; charset=utf-8")], body=body)
