"""``<validate-jwt>``: refuse requests without a valid JWT.

Keys come from ``<openid-config url>`` documents (fetched through the gateway's OpenIdKeyCache,
cached an hour, refetched at most every 5 minutes on an unknown kid) and from inline
``<issuer-signing-keys>`` (``<key n= e=>`` RSA keys, or base64 text for HS256 secrets). Failures go
through on-error with APIM's reasons; the default answer is failed-validation-httpcode (401) with
the documented default message for the reason (`jwt_support.default_failure_message`).

Policy expressions are taken where validate-jwt-policy.md allows them: failed-validation-httpcode,
failed-validation-error-message, and the ``<audience>`` / ``<issuer>`` texts (the page's own examples
use ``<audience>@(context.Request.OriginalUrl.Host)</audience>``); they are evaluated per request.
"""

from __future__ import annotations

import dataclasses

from typing import Any

from toolkit.emulator.jwt_validation import (
    ASYMMETRIC_ALGORITHMS,
    JwtRequirements,
    JwtValidationError,
    KeyChain,
    KeysNotCached,
    SigningKey,
    StaticKeys,
    validate_jwt,
)
from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.jwt_support import (
    TokenSource,
    configured_failure,
    required_claims,
    single_children,
    text_list,
    texts_of,
)
from toolkit.emulator.policy.registry import handler
from toolkit.emulator.policy.values import IntSetting

CHILDREN = ("openid-config", "issuer-signing-keys", "audiences", "issuers", "required-claims")


@handler(
    "validate-jwt",
    sections=("inbound",),
    attributes=("header-name", "query-parameter-name", "token-value", "failed-validation-httpcode",
                "failed-validation-error-message", "require-scheme", "require-expiration-time",
                "require-signed-tokens", "clock-skew", "output-token-variable-name"),
    children=CHILDREN,
    notes="RS256/RS512/PS256 via openid-config or <key n e>, HS256 via base64 <key>; decryption-keys and "
    "certificate-id keys are not supported. Expressions in failed-validation-httpcode/-error-message, token-value, "
    "<audience>, <issuer>. Failure → on-error with APIM's reasons, default 401 JSON with the documented message.",
)
class ValidateJwt(Policy):
    """JWT validation."""

    __slots__ = ("source", "status", "message", "requirements", "openid_urls", "inline_keys", "output",
                 "audiences", "issuers", "_chains")

    def __init__(self, source: TokenSource, status: IntSetting, message: Any, requirements: JwtRequirements,
                 openid_urls: tuple[str, ...], inline_keys: StaticKeys | None, output: str | None,
                 audiences: tuple[Any, ...] = (), issuers: tuple[Any, ...] = ()) -> None:
        super().__init__()
        self.source = source
        self.status = status
        self.message = message
        self.requirements = requirements
        self.openid_urls = openid_urls
        self.inline_keys = inline_keys
        self.output = output
        # Expression-valued audiences/issuers (None when all are constants, already in requirements).
        self.audiences = audiences if any(not isinstance(a, str) for a in audiences) else None
        self.issuers = issuers if any(not isinstance(i, str) for i in issuers) else None
        # The key chains built for a key cache, by fetch flag: (cache, chain), rebuilt when the cache changes.
        self._chains: dict[bool, tuple[Any, KeyChain]] = {}

    @classmethod
    def compile(cls, element: Any, cc: Any) -> ValidateJwt:
        """Read the attributes and the key, audience, issuer and claim children."""
        source = TokenSource.compile(element, cc, default_header=None, scheme=cc.constant(element, "require-scheme"))
        groups = single_children(element, CHILDREN, cc)
        urls = []
        for config in groups.get("openid-config", []):
            cc.check_attributes(config, ("url",), ("url",))
            cc.child_elements(config, ())
            urls.append(cc.constant(config, "url").strip())
        keys = [_key(key, cc) for container in groups.get("issuer-signing-keys", [])
                for key in _key_elements(container, cc)]
        algorithms = ASYMMETRIC_ALGORITHMS + (("HS256",) if any(k.symmetric for k in keys) else ())
        audiences = _values(groups, "audiences", "audience", cc)
        issuers = _values(groups, "issuers", "issuer", cc)
        requirements = JwtRequirements(
            audiences=tuple(a for a in audiences if isinstance(a, str)),
            issuers=tuple(i for i in issuers if isinstance(i, str)),
            required_claims=required_claims(groups["required-claims"][0], cc) if "required-claims" in groups else (),
            clock_skew_seconds=float(cc.integer(element, "clock-skew", default=0, minimum=0).constant),
            require_expiration_time=cc.boolean(element, "require-expiration-time", True),
            require_signed_tokens=cc.boolean(element, "require-signed-tokens", True),
            algorithms=algorithms,
        )
        return cls(
            source,
            cc.integer(element, "failed-validation-httpcode", default=401, minimum=100, maximum=599, expressions=True),
            cc.value(element, "failed-validation-error-message", expect="string"),
            requirements,
            tuple(urls),
            StaticKeys(keys) if keys else None,
            cc.constant(element, "output-token-variable-name"),
            audiences,
            issuers,
        )

    async def run(self, ctx: Any, services: Any) -> None:
        """Validate the token; store its claims in the output variable."""
        try:
            token = self.source.extract(ctx)
            if token is None:
                raise JwtValidationError("JWT not present.", reason="not_present")
            now = services.clock()
            requirements = self._requirements(ctx)
            try:  # with the keys cached, here: a hop to a worker thread costs more than the validation
                claims = validate_jwt(token, requirements, self._keys(services, fetch=False), now)
            except KeysNotCached:  # an openid-config fetch is due (HTTP): off the event loop
                claims = await services.run_blocking(validate_jwt, token, requirements, self._keys(services), now)
        except JwtValidationError as exc:
            ctx.note(self.spec.name, f"refused: {exc.reason}")
            raise configured_failure(self.spec.name, exc, self.status, self.message, ctx) from None
        if self.output:
            ctx.variables[self.output] = claims
        ctx.note(self.spec.name, "valid token")

    def _requirements(self, ctx: Any) -> JwtRequirements:
        """The requirements with this request's values of expression audiences and issuers."""
        if self.audiences is None and self.issuers is None:
            return self.requirements
        changes = {}
        if self.audiences is not None:
            changes["audiences"] = texts_of(self.audiences, ctx)
        if self.issuers is not None:
            changes["issuers"] = texts_of(self.issuers, ctx)
        return dataclasses.replace(self.requirements, **changes)

    def _keys(self, services: Any, *, fetch: bool = True) -> Any:
        cache = services.jwt_keys if self.openid_urls else None
        built = self._chains.get(fetch)
        if built is not None and built[0] is cache:  # the chain only reads its sources: reused on every request
            return built[1]
        chain = self._chain(cache, fetch)
        self._chains[fetch] = (cache, chain)
        return chain

    def _chain(self, cache: Any, fetch: bool) -> KeyChain:
        sources = [self.inline_keys] if self.inline_keys is not None else []
        if self.openid_urls:
            if cache is None:
                raise JwtValidationError("JWT signing keys unavailable: the gateway cannot fetch openid-config.",
                                         reason="keys_unavailable")
            sources.extend(cache.source(url, fetch=fetch) for url in self.openid_urls)
        return KeyChain(*sources)


def _values(groups: dict[str, list[Any]], container: str, item: str, cc: Any) -> tuple[Any, ...]:
    """``<audiences><audience>…`` texts: constant strings, or compiled expressions evaluated per request."""
    return text_list(groups[container][0], item, cc, expressions=True) if container in groups else ()


def _key_elements(container: Any, cc: Any) -> list[Any]:
    cc.check_attributes(container, ())
    return cc.child_elements(container, ("key",))


def _key(element: Any, cc: Any) -> SigningKey:
    """``<key n="..." e="..."/>`` (RSA) or ``<key>base64</key>`` (symmetric)."""
    cc.check_attributes(element, ("n", "e"))
    cc.child_elements(element, (), text=True)
    n, e = cc.constant(element, "n"), cc.constant(element, "e")
    text = cc.text(element)
    try:
        if n is not None or e is not None:
            if n is None or e is None or text:
                raise cc.reject(element, "<key> needs both 'n' and 'e' (an RSA key) or only base64 text (a symmetric key)")
            return SigningKey.from_modulus_exponent(n, e)
        return SigningKey.from_symmetric_base64(text)
    except ValueError as exc:
        raise cc.reject(element, f"<key>: {exc}") from None
