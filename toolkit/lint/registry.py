"""The built-in rules, listed explicitly (importing a rule module registers nothing by itself)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from toolkit.lint.core import Rule
from toolkit.lint.rules.APIM000_unparseable import Unparseable
from toolkit.lint.rules.APIM001_pool_member_range import PoolMemberRange
from toolkit.lint.rules.APIM002_pool_size import PoolSize
from toolkit.lint.rules.APIM003_pool_member_unknown import PoolMemberUnknown
from toolkit.lint.rules.APIM004_pool_member_is_pool import PoolMemberIsPool
from toolkit.lint.rules.APIM005_pool_url_protocol import PoolUrlProtocol
from toolkit.lint.rules.APIM006_circuit_breaker_rule_count import CircuitBreakerRuleCount
from toolkit.lint.rules.APIM007_circuit_breaker_duration import CircuitBreakerDuration
from toolkit.lint.rules.APIM008_circuit_breaker_status_range import CircuitBreakerStatusRange
from toolkit.lint.rules.APIM009_circuit_breaker_threshold import CircuitBreakerThreshold
from toolkit.lint.rules.APIM010_accept_retry_after_openai import AcceptRetryAfterOpenAI
from toolkit.lint.rules.APIM011_field_type import FieldType
from toolkit.lint.rules.APIM020_policy_section import PolicySection
from toolkit.lint.rules.APIM021_missing_base import MissingBase
from toolkit.lint.rules.APIM022_retry_unbuffered_body import RetryUnbufferedBody
from toolkit.lint.rules.APIM023_retry_count_below_pool import RetryCountBelowPool
from toolkit.lint.rules.APIM024_retry_on_reason_text import RetryOnReasonText
from toolkit.lint.rules.APIM025_backend_id_unknown import BackendIdUnknown
from toolkit.lint.rules.APIM026_semantic_cache_threshold_loose import SemanticCacheThresholdLoose
from toolkit.lint.rules.APIM027_semantic_cache_threshold_range import SemanticCacheThresholdRange
from toolkit.lint.rules.APIM028_token_limit_attributes import TokenLimitAttributes
from toolkit.lint.rules.APIM029_jwt_audiences_issuers import JwtAudiencesIssuers
from toolkit.lint.rules.APIM030_jwt_key_source import JwtKeySource
from toolkit.lint.rules.APIM031_named_value_unknown import NamedValueUnknown
from toolkit.lint.rules.APIM032_unknown_policy_element import UnknownPolicyElement
from toolkit.lint.rules.APIM033_wait_in_retry import WaitInRetry
from toolkit.lint.rules.APIM034_policy_refused_at_publish import PolicyRefusedAtPublish
from toolkit.lint.rules.APIM040_api_without_operations import ApiWithoutOperations
from toolkit.lint.rules.APIM041_openai_backend_without_auth import OpenAIBackendWithoutAuth
from toolkit.lint.rules.APIM042_embeddings_backend_without_auth import EmbeddingsBackendWithoutAuth
from toolkit.lint.rules.APIM043_api_key_literal import ApiKeyLiteral
from toolkit.lint.rules.APIM050_name_case_collision import NameCaseCollision
from toolkit.lint.rules.APIM051_api_path_collision import ApiPathCollision

BUILTIN_RULES: tuple[type[Rule], ...] = (
    # files
    Unparseable,
    # backends and pools
    PoolMemberRange,
    PoolSize,
    PoolMemberUnknown,
    PoolMemberIsPool,
    PoolUrlProtocol,
    # circuit breaker
    CircuitBreakerRuleCount,
    CircuitBreakerDuration,
    CircuitBreakerStatusRange,
    CircuitBreakerThreshold,
    AcceptRetryAfterOpenAI,
    # information file fields
    FieldType,
    # policy structure, retry, routing
    PolicySection,
    MissingBase,
    RetryUnbufferedBody,
    RetryCountBelowPool,
    RetryOnReasonText,
    BackendIdUnknown,
    # AI gateway policies
    SemanticCacheThresholdLoose,
    SemanticCacheThresholdRange,
    TokenLimitAttributes,
    JwtAudiencesIssuers,
    JwtKeySource,
    NamedValueUnknown,
    UnknownPolicyElement,
    WaitInRetry,
    PolicyRefusedAtPublish,
    # operations and backend authentication
    ApiWithoutOperations,
    OpenAIBackendWithoutAuth,
    EmbeddingsBackendWithoutAuth,
    ApiKeyLiteral,
    # resource identity (APIM names and paths are case-insensitive)
    NameCaseCollision,
    ApiPathCollision,
)

_CODE = re.compile(r"APIM\d{3}")


def build_registry(rules: Iterable[type[Rule]]) -> dict[str, type[Rule]]:
    """Rules by code, sorted; ValueError on a malformed or duplicate code."""
    registry: dict[str, type[Rule]] = {}
    for rule in rules:
        if not _CODE.fullmatch(rule.code):
            raise ValueError(f"{rule.__name__}: code {rule.code!r} does not match APIMnnn")
        if rule.code in registry:
            raise ValueError(f"duplicate lint rule code {rule.code}: {registry[rule.code].__name__} and {rule.__name__}")
        registry[rule.code] = rule
    return dict(sorted(registry.items()))


REGISTRY: dict[str, type[Rule]] = build_registry(BUILTIN_RULES)


def all_rules() -> list[Rule]:
    """One instance of every built-in rule, in code order."""
    return [rule() for rule in REGISTRY.values()]


def get_rule(code: str) -> type[Rule]:
    """The rule class with ``code`` (KeyError when unknown)."""
    return REGISTRY[code.upper()]
