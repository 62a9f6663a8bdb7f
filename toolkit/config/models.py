"""Typed models of toolkit.yaml. Pure: no I/O, no environment reads.

Limits follow APIM (reference/apim-behaviour.md): pool members 1..30, priority and weight 0..100,
one circuit-breaker rule per backend, status ranges 200..599, score-threshold in [0, 1].
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

import isodate
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.functional_validators import AfterValidator

from toolkit.config.lint_settings import LintSettings

MAX_POOL_MEMBERS = 30
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$"


class StrictModel(BaseModel):
    """Refuses unknown keys and silent conversions (``weight: true`` or ``"50"`` is not a number);
    every model of the config derives from it."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, strict=True)


def _check_duration(value: str) -> str:
    try:
        parsed = isodate.parse_duration(value)
    except (isodate.ISO8601Error, ValueError, TypeError, OverflowError):
        raise ValueError(f"{value!r} is not an ISO 8601 duration (e.g. PT1M, PT30S, P1D)") from None
    if not isinstance(parsed, timedelta):
        raise ValueError(f"{value!r}: use days, hours, minutes or seconds (years and months vary in length)")
    if parsed <= timedelta(0):
        raise ValueError(f"{value!r} must be longer than zero")
    return value


Duration = Annotated[str, AfterValidator(_check_duration)]
Name = Annotated[str, Field(pattern=NAME_PATTERN)]


def duration_seconds(value: str) -> float:
    """Seconds in a validated ISO 8601 duration."""
    return isodate.parse_duration(value).total_seconds()


class StatusRange(StrictModel):
    """An inclusive HTTP status range counted as a failure by a circuit breaker."""

    min: int = Field(ge=200, le=599)
    max: int = Field(ge=200, le=599)

    @model_validator(mode="after")
    def _ordered(self) -> StatusRange:
        if self.min > self.max:
            raise ValueError(f"status range min {self.min} is above max {self.max}")
        return self


_RANGE_TEXT = re.compile(r"^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$")


def _parse_status_range(value: Any) -> Any:
    """Accept 429, "429", "500-599" or {min, max}."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return {"min": value, "max": value}
    if isinstance(value, str):
        match = _RANGE_TEXT.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a status code or range like 429 or 500-599")
        low = int(match.group(1))
        return {"min": low, "max": int(match.group(2) or low)}
    return value


class CircuitBreakerRule(StrictModel):
    """One APIM circuit-breaker rule (APIM accepts exactly one per backend)."""

    name: Name = "breaker"
    count: int | None = Field(default=None, ge=1)
    percentage: int | None = Field(default=None, ge=1, le=100)
    interval: Duration
    status_codes: list[StatusRange] = Field(default_factory=list, max_length=10)
    error_reasons: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=10)
    trip_duration: Duration
    accept_retry_after: bool = False

    @field_validator("status_codes", mode="before")
    @classmethod
    def _ranges(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [_parse_status_range(item) for item in value]
        return value

    @model_validator(mode="after")
    def _threshold(self) -> CircuitBreakerRule:
        if (self.count is None) == (self.percentage is None):
            raise ValueError("set exactly one of count or percentage")
        if not self.status_codes and not self.error_reasons:
            raise ValueError("set status_codes or error_reasons: otherwise nothing counts as a failure")
        return self


_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_KEY_VAULT_SECRET = re.compile(r"^https://[^/\s]+/secrets/[^/\s]+(/[^/\s]*)?$")


def _check_guid(value: str) -> str:
    if not _GUID.match(value):
        raise ValueError(f"{value!r} is not a GUID (a client id looks like 00000000-0000-0000-0000-000000000000)")
    return value


def _check_key_vault_secret(value: str) -> str:
    if not _KEY_VAULT_SECRET.match(value):
        raise ValueError(f"{value!r} is not a Key Vault secret identifier URL "
                         "(https://<vault>.vault.azure.net/secrets/<name>[/<version>])")
    return value


Guid = Annotated[str, AfterValidator(_check_guid)]
KeyVaultSecretId = Annotated[str, AfterValidator(_check_key_vault_secret)]
# The OpenAPI description an API carries: our Azure OpenAI inference description, catch-all
# operations, or the path of the user's own OpenAPI 3 document (relative to toolkit.yaml).
BUILTIN_SPECS = ("azure-openai-inference", "wildcard")


class BackendAuthConfig(StrictModel):
    """How APIM authenticates to a backend: its managed identity, or an api-key (secret or Key Vault).

    ``auth: managed-identity`` | ``auth: {managed_identity: {client_id: <guid>}}`` |
    ``auth: {api_key: ${AOAI_KEY}}`` | ``auth: {key_vault: https://<vault>.vault.azure.net/secrets/<name>}``.
    """

    managed_identity: bool = False
    client_id: Guid | None = None
    api_key: str | None = Field(default=None, min_length=1)
    key_vault: KeyVaultSecretId | None = None
    identity_client_id: Guid | None = None

    @model_validator(mode="before")
    @classmethod
    def _short_forms(cls, value: Any) -> Any:
        if value in ("managed-identity", "system-assigned"):
            return {"managed_identity": True}
        if isinstance(value, dict) and "managed_identity" in value:
            identity = value["managed_identity"]
            rest = {k: v for k, v in value.items() if k != "managed_identity"}
            if isinstance(identity, dict):
                return {**rest, **identity, "managed_identity": True}
            return {**rest, "managed_identity": identity}
        return value

    @model_validator(mode="after")
    def _one_mode(self) -> BackendAuthConfig:
        modes = [self.managed_identity, self.api_key is not None, self.key_vault is not None]
        if sum(modes) != 1:
            raise ValueError("set exactly one of managed-identity, api_key or key_vault")
        if self.client_id and not self.managed_identity:
            raise ValueError("client_id belongs to managed_identity (a user-assigned identity)")
        if self.identity_client_id and self.key_vault is None:
            raise ValueError("identity_client_id belongs to key_vault")
        return self

    @property
    def uses_key(self) -> bool:
        """Whether APIM sends an api-key header (from a secret or Key Vault named value)."""
        return not self.managed_identity


class BackendConfig(StrictModel):
    """A single backend (an Azure OpenAI deployment, the embeddings endpoint...)."""

    name: Name
    url: str = Field(min_length=1)
    protocol: Literal["http", "soap"] = "http"
    region: str | None = None
    description: str | None = None
    circuit_breaker: CircuitBreakerRule | None = None
    auth: BackendAuthConfig | None = None

    @field_validator("region")
    @classmethod
    def _ascii_region(cls, value: str | None) -> str | None:
        # validate matches it against the backend's x-ms-region response header: header values are ASCII
        if value is not None and not all(" " <= c <= "~" for c in value):
            raise ValueError("a region is an Azure region name in printable ASCII (East US), as the x-ms-region "
                             "header it is matched against")
        return value

    @field_validator("circuit_breaker", mode="before")
    @classmethod
    def _one_rule(cls, value: Any) -> Any:
        # Accept the APIM shape {rules: [...]} as well as the short form, but only one rule:
        # the service rejects more (backends.md, Limitations).
        if isinstance(value, dict) and "rules" in value:
            rules = value["rules"]
            if not isinstance(rules, list) or len(rules) != 1:
                count = len(rules) if isinstance(rules, list) else "?"
                raise ValueError(f"APIM accepts exactly one circuit-breaker rule per backend, got {count}")
            extra = set(value) - {"rules"}
            if extra:
                raise ValueError(f"unknown key(s) next to rules: {', '.join(sorted(extra))}")
            return rules[0]
        return value

    @field_validator("url")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"{value!r} is not an absolute http(s) URL")
        return value.rstrip("/")


class PoolMember(StrictModel):
    """A pool member: a single backend with optional priority (lower first) and weight."""

    backend: Name
    priority: int | None = Field(default=None, ge=0, le=100)
    weight: int | None = Field(default=None, ge=0, le=100)


class PoolConfig(StrictModel):
    """A load-balanced pool (APIM backend of type Pool)."""

    name: Name
    description: str | None = None
    members: list[PoolMember] = Field(min_length=1, max_length=MAX_POOL_MEMBERS)

    @model_validator(mode="before")
    @classmethod
    def _no_url_on_pool(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for key in ("url", "protocol"):
                if key in value:
                    raise ValueError(
                        f"{key} is not supported for a backend pool (APIM rejects it); set it on the members"
                    )
        return value

    @field_validator("members")
    @classmethod
    def _unique(cls, members: list[PoolMember]) -> list[PoolMember]:
        seen: set[str] = set()
        for member in members:
            if member.backend in seen:
                raise ValueError(f"backend {member.backend!r} is listed twice")
            seen.add(member.backend)
        return members


class RetryConfig(StrictModel):
    """The <retry> wrapped around forward-request."""

    on_status: list[int] = Field(default_factory=lambda: [429, 503], min_length=1)
    count: int | Literal["auto"] = "auto"
    interval: int = Field(default=0, ge=0, le=600)
    delta: int | None = Field(default=None, ge=0)
    max_interval: int | None = Field(default=None, ge=0)
    first_fast_retry: bool = True
    forward_timeout: int = Field(default=120, ge=1, le=240)

    @field_validator("on_status")
    @classmethod
    def _statuses(cls, value: list[int]) -> list[int]:
        for status in value:
            if not 200 <= status <= 599:
                raise ValueError(f"status {status} is outside 200..599")
        return value

    @field_validator("count")
    @classmethod
    def _count(cls, value: int | str) -> int | str:
        if isinstance(value, int) and not 1 <= value <= 50:
            raise ValueError("retry count must be between 1 and 50 (APIM)")
        return value


class SemanticCacheConfig(StrictModel):
    """Semantic cache lookup (inbound) and store (outbound)."""

    score_threshold: float = Field(ge=0.0, le=1.0)
    embeddings_backend: Name
    duration: int = Field(ge=1)
    ignore_system_messages: bool = True
    max_message_count: int | None = Field(default=None, ge=1)
    vary_by: list[str] = Field(default_factory=list)
    policy_prefix: Literal["azure-openai", "llm"] = "azure-openai"


QuotaPeriod = Literal["Hourly", "Daily", "Weekly", "Monthly", "Yearly"]


class TokenLimitConfig(StrictModel):
    """azure-openai-token-limit / llm-token-limit."""

    counter_key: str = Field(min_length=1)
    tokens_per_minute: int | None = Field(default=None, ge=1)
    token_quota: int | None = Field(default=None, ge=1)
    token_quota_period: QuotaPeriod | None = None
    estimate_prompt_tokens: bool = True
    retry_after_header: str | None = None
    remaining_tokens_header: str | None = None
    remaining_quota_tokens_header: str | None = None
    tokens_consumed_header: str | None = None
    policy_prefix: Literal["azure-openai", "llm"] = "azure-openai"

    @model_validator(mode="after")
    def _a_limit(self) -> TokenLimitConfig:
        if self.tokens_per_minute is None and self.token_quota is None:
            raise ValueError("set tokens_per_minute, token_quota or both")
        if (self.token_quota is None) != (self.token_quota_period is None):
            raise ValueError("token_quota and token_quota_period go together")
        return self


class ClaimConfig(StrictModel):
    """A claim validate-jwt requires."""

    name: str = Field(min_length=1)
    values: list[str] = Field(default_factory=list)
    match: Literal["all", "any"] = "all"


class JwtConfig(StrictModel):
    """validate-jwt."""

    header_name: str = "Authorization"
    require_scheme: str | None = "Bearer"
    openid_config: list[str] = Field(min_length=1)
    audiences: list[str] = Field(default_factory=list)
    issuers: list[str] = Field(default_factory=list)
    required_claims: list[ClaimConfig] = Field(default_factory=list)
    clock_skew: int = Field(default=0, ge=0, le=3600)
    require_expiration_time: bool = True
    failed_validation_httpcode: int = Field(default=401, ge=400, le=599)
    failed_validation_error_message: str | None = None


FragmentSection = Literal["inbound", "backend", "outbound", "on-error"]


class PolicyFragmentConfig(StrictModel):
    """A policy fragment rendered from a template in policies/ and included by APIs."""

    name: Name
    description: str | None = None
    template: str = Field(pattern=r"^[A-Za-z0-9._/-]+\.xml\.j2$")


class ApiConfig(StrictModel):
    """An API in front of Azure OpenAI and the policies it carries."""

    name: Name
    display_name: str | None = None
    path: str = Field(pattern=r"^[A-Za-z0-9._~/-]*$")
    subscription_key_header: str = "api-key"
    subscription_key_query: str = "subscription-key"
    subscription_required: bool = True
    backend: Name
    retry: RetryConfig | None = None
    semantic_cache: SemanticCacheConfig | None = None
    token_limit: TokenLimitConfig | None = None
    jwt: JwtConfig | None = None
    fragments: dict[FragmentSection, list[Name]] = Field(default_factory=dict)
    spec: str = Field(default="azure-openai-inference", min_length=1)
    revision: int = Field(default=1, ge=1)
    auth: BackendAuthConfig | None = None
    # operation name (operationId) -> policy template in policies/ (rendered to apis/<api>/operations/<op>/policy.xml)
    operation_policies: dict[str, Annotated[str, Field(pattern=r"^[A-Za-z0-9._/-]+\.xml\.j2$")]] = \
        Field(default_factory=dict)

    @field_validator("spec")
    @classmethod
    def _spec(cls, value: str) -> str:
        if value not in BUILTIN_SPECS and not re.search(r"\.(json|ya?ml)$", value, re.IGNORECASE):
            raise ValueError(f"{value!r}: use {' or '.join(BUILTIN_SPECS)}, or the path of an OpenAPI 3 .json/.yaml file")
        return value


class NamedValueConfig(StrictModel):
    """A named value, referenced from policies as {{name}}."""

    name: Name
    value: str = ""
    secret: bool = False
    display_name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]+$", max_length=256)
    key_vault: KeyVaultSecretId | None = None  # a Key Vault named value: APIM reads the secret itself
    identity_client_id: Guid | None = None  # the user-assigned identity that reads it (else system-assigned)

    @model_validator(mode="before")
    @classmethod
    def _value_or_key_vault(cls, value: Any) -> Any:
        if isinstance(value, dict) and "value" not in value and "key_vault" not in value:
            raise ValueError("set value (or key_vault, a Key Vault secret identifier)")
        return value


class SimulatedBackendConfig(StrictModel):
    """How the emulator's simulated Azure OpenAI instance for a backend behaves."""

    latency_ms: float = Field(default=0, ge=0)
    latency_per_token_ms: float = Field(default=0, ge=0)
    jitter_ms: float = Field(default=0, ge=0)
    tokens_per_minute: int | None = Field(default=None, ge=1)
    requests_per_minute: int | None = Field(default=None, ge=1)
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    error_status: int = Field(default=500, ge=400, le=599)


class EnvironmentConfig(StrictModel):
    """A deployment target and the overrides that apply to it."""

    target: Literal["local", "azure"]
    subscription_id: str | None = None
    resource_group: str | None = None
    service: str | None = None
    gateway_url: str | None = None
    subscription_key: str | None = None
    tenant_id: str | None = None
    client_id: str | None = None
    auth: Literal["default", "cli", "workload-identity", "client-secret", "managed-identity"] = "default"
    api_version: str = "2024-05-01"
    deployment: str = "gpt-4o-mini"
    openai_api_version: str = "2024-10-21"
    overrides: dict[str, Any] = Field(default_factory=dict)
    simulator: dict[str, SimulatedBackendConfig] = Field(default_factory=dict)
    cache_url: str | None = None
    emulator_state: str = ".toolkit/emulator-state.json"

    @field_validator("openai_api_version")
    @classmethod
    def _known_api_version(cls, value: str) -> str:
        from toolkit.config.openai_versions import check_api_version

        return check_api_version(value)

    @model_validator(mode="after")
    def _azure_needs_ids(self) -> EnvironmentConfig:
        if self.target == "azure":
            missing = [f for f in ("subscription_id", "resource_group", "service") if not getattr(self, f)]
            if missing:
                raise ValueError(f"an azure environment needs {', '.join(missing)}")
        return self


class GatewayConfig(StrictModel):
    """The whole desired gateway (after the environment's overrides were merged in)."""

    apis: list[ApiConfig] = Field(default_factory=list)
    backends: list[BackendConfig] = Field(default_factory=list)
    pools: list[PoolConfig] = Field(default_factory=list)
    named_values: list[NamedValueConfig] = Field(default_factory=list)
    policy_fragments: list[PolicyFragmentConfig] = Field(default_factory=list)
    environments: dict[str, EnvironmentConfig] = Field(min_length=1)
    lint: LintSettings = Field(default_factory=LintSettings)  # findings accepted on purpose (lint_settings.py)

    @model_validator(mode="after")
    def _references(self) -> GatewayConfig:
        _unique_names(("backends", [b.name for b in self.backends]), ("pools", [p.name for p in self.pools]))
        _unique_names(("apis", [a.name for a in self.apis]))
        _unique_names(("named_values", [n.name for n in self.named_values]))
        _unique_names(("policy_fragments", [f.name for f in self.policy_fragments]))
        _unique_api_paths(self.apis)
        fragment_names = {f.name for f in self.policy_fragments}
        singles = {b.name for b in self.backends}
        pools = {p.name for p in self.pools}
        for index, pool in enumerate(self.pools):
            for member_index, member in enumerate(pool.members):
                where = f"pools.{index}.members.{member_index}.backend"
                if member.backend in pools:
                    raise _RefError(where, f"{member.backend!r} is a pool; a pool may only contain single backends")
                if member.backend not in singles:
                    raise _RefError(where, f"unknown backend {member.backend!r} (known: {_known(singles)})")
        for index, api in enumerate(self.apis):
            if api.backend not in singles | pools:
                raise _RefError(f"apis.{index}.backend", f"unknown backend or pool {api.backend!r}")
            for section, names in api.fragments.items():
                for position, name in enumerate(names):
                    if name not in fragment_names:
                        raise _RefError(f"apis.{index}.fragments.{section}.{position}",
                                        f"unknown policy fragment {name!r} (known: {_known(fragment_names)})")
            cache = api.semantic_cache
            if cache and cache.embeddings_backend not in singles:
                raise _RefError(
                    f"apis.{index}.semantic_cache.embeddings_backend",
                    f"unknown backend {cache.embeddings_backend!r} (known: {_known(singles)})",
                )
        return self

    def backend(self, name: str) -> BackendConfig:
        """The single backend called ``name``."""
        return next(b for b in self.backends if b.name == name)

    def pool(self, name: str) -> PoolConfig | None:
        """The pool called ``name``, or None when it is a single backend."""
        return next((p for p in self.pools if p.name == name), None)

    def retry_count(self, api: ApiConfig) -> int:
        """The effective retry count: 'auto' is pool size - 1 (at least 1) so every member can be tried."""
        assert api.retry is not None
        if api.retry.count != "auto":
            return int(api.retry.count)
        pool = self.pool(api.backend)
        return max(1, len(pool.members) - 1) if pool else 1


class LoadedConfig(BaseModel):
    """A loaded, validated config with its selected environment."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    gateway: GatewayConfig
    env_name: str
    path: str
    deferred: dict[str, Exception] = {}

    @property
    def environment(self) -> EnvironmentConfig:
        """The selected environment (a setting whose ${VAR} is unset is None: see ``require``)."""
        return self.gateway.environments[self.env_name]

    def require(self, *settings: str) -> EnvironmentConfig:
        """The selected environment, after checking that these settings' variables were set.

        Raises the ConfigError (file:line, field, the variable to export) of the first one that was not.
        """
        for setting in settings:
            if setting in self.deferred:
                raise self.deferred[setting]
        return self.environment


class _RefError(ValueError):
    """A cross-reference error that knows the dotted path of the field at fault (and of the one it clashes with)."""

    def __init__(self, path: str, message: str, other_path: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.other_path = other_path


def _unique_names(*sections: tuple[str, list[str]]) -> None:
    """Names must be unique across the given sections (backends and pools share one namespace in APIM).

    APIM resource names are case-insensitive: ``east`` and ``EAST`` are the same backend.
    """
    seen: dict[str, tuple[str, str]] = {}
    for section, names in sections:
        for index, name in enumerate(names):
            first = seen.get(name.casefold())
            if first:
                first_name, first_path = first
                same = "used twice" if first_name == name else f"the same as {first_name!r} (APIM names ignore case)"
                raise _RefError(f"{section}.{index}.name", f"the name {name!r} is {same}", first_path)
            seen[name.casefold()] = (name, f"{section}.{index}.name")


def _unique_api_paths(apis: list[ApiConfig]) -> None:
    """Two APIs cannot share a URL path (APIM compares paths ignoring case and surrounding slashes)."""
    seen: dict[str, int] = {}
    for index, api in enumerate(apis):
        key = api.path.strip("/").casefold()
        if key in seen:
            first = apis[seen[key]]
            raise _RefError(f"apis.{index}.path",
                            f"API path {api.path!r} is already used by API {first.name!r} (APIM paths ignore case)",
                            f"apis.{seen[key]}.path")
        seen[key] = index


def _known(names: set[str]) -> str:
    return ", ".join(sorted(names)) or "none"
