"""The built-in policy handlers, listed explicitly (nothing registers by import side effect)."""

from __future__ import annotations

from functools import lru_cache

from toolkit.emulator.policy.handlers.authentication_managed_identity import AuthenticationManagedIdentity
from toolkit.emulator.policy.handlers.azure_openai_emit_token_metric import AzureOpenAiEmitTokenMetric
from toolkit.emulator.policy.handlers.azure_openai_semantic_cache_lookup import AzureOpenAiSemanticCacheLookup
from toolkit.emulator.policy.handlers.azure_openai_semantic_cache_store import AzureOpenAiSemanticCacheStore
from toolkit.emulator.policy.handlers.azure_openai_token_limit import AzureOpenAiTokenLimit
from toolkit.emulator.policy.handlers.base import Base
from toolkit.emulator.policy.handlers.cache_lookup import CacheLookup
from toolkit.emulator.policy.handlers.cache_lookup_value import CacheLookupValue
from toolkit.emulator.policy.handlers.cache_remove_value import CacheRemoveValue
from toolkit.emulator.policy.handlers.cache_store import CacheStore
from toolkit.emulator.policy.handlers.cache_store_value import CacheStoreValue
from toolkit.emulator.policy.handlers.check_header import CheckHeader
from toolkit.emulator.policy.handlers.choose import Choose
from toolkit.emulator.policy.handlers.cors import Cors
from toolkit.emulator.policy.handlers.emit_metric import EmitMetric
from toolkit.emulator.policy.handlers.find_and_replace import FindAndReplace
from toolkit.emulator.policy.handlers.forward_request import ForwardRequest
from toolkit.emulator.policy.handlers.include_fragment import IncludeFragment
from toolkit.emulator.policy.handlers.ip_filter import IpFilter
from toolkit.emulator.policy.handlers.json_to_xml import JsonToXml
from toolkit.emulator.policy.handlers.limit_concurrency import LimitConcurrency
from toolkit.emulator.policy.handlers.llm_content_safety import LlmContentSafety
from toolkit.emulator.policy.handlers.llm_emit_token_metric import LlmEmitTokenMetric
from toolkit.emulator.policy.handlers.llm_semantic_cache_lookup import LlmSemanticCacheLookup
from toolkit.emulator.policy.handlers.llm_semantic_cache_store import LlmSemanticCacheStore
from toolkit.emulator.policy.handlers.llm_token_limit import LlmTokenLimit
from toolkit.emulator.policy.handlers.log_to_eventhub import LogToEventhub
from toolkit.emulator.policy.handlers.mock_response import MockResponse
from toolkit.emulator.policy.handlers.quota import Quota
from toolkit.emulator.policy.handlers.quota_by_key import QuotaByKey
from toolkit.emulator.policy.handlers.rate_limit import RateLimit
from toolkit.emulator.policy.handlers.rate_limit_by_key import RateLimitByKey
from toolkit.emulator.policy.handlers.retry import Retry
from toolkit.emulator.policy.handlers.return_response import ReturnResponse
from toolkit.emulator.policy.handlers.rewrite_uri import RewriteUri
from toolkit.emulator.policy.handlers.send_one_way_request import SendOneWayRequest
from toolkit.emulator.policy.handlers.send_request import SendRequest
from toolkit.emulator.policy.handlers.set_backend_service import SetBackendService
from toolkit.emulator.policy.handlers.set_body import SetBody
from toolkit.emulator.policy.handlers.set_header import SetHeader
from toolkit.emulator.policy.handlers.set_method import SetMethod
from toolkit.emulator.policy.handlers.set_query_parameter import SetQueryParameter
from toolkit.emulator.policy.handlers.set_status import SetStatus
from toolkit.emulator.policy.handlers.set_variable import SetVariable
from toolkit.emulator.policy.handlers.trace import TracePolicy
from toolkit.emulator.policy.handlers.validate_azure_ad_token import ValidateAzureAdToken
from toolkit.emulator.policy.handlers.validate_jwt import ValidateJwt
from toolkit.emulator.policy.handlers.wait import Wait
from toolkit.emulator.policy.handlers.xml_to_json import XmlToJson
from toolkit.emulator.policy.registry import HandlerRegistry

BUILTIN_HANDLERS = (
    AuthenticationManagedIdentity,
    AzureOpenAiEmitTokenMetric,
    AzureOpenAiSemanticCacheLookup,
    AzureOpenAiSemanticCacheStore,
    AzureOpenAiTokenLimit,
    Base,
    CacheLookup,
    CacheLookupValue,
    CacheRemoveValue,
    CacheStore,
    CacheStoreValue,
    CheckHeader,
    Choose,
    Cors,
    EmitMetric,
    FindAndReplace,
    ForwardRequest,
    IncludeFragment,
    IpFilter,
    JsonToXml,
    LimitConcurrency,
    LlmContentSafety,
    LlmEmitTokenMetric,
    LlmSemanticCacheLookup,
    LlmSemanticCacheStore,
    LlmTokenLimit,
    LogToEventhub,
    MockResponse,
    Quota,
    QuotaByKey,
    RateLimit,
    RateLimitByKey,
    Retry,
    ReturnResponse,
    RewriteUri,
    SendOneWayRequest,
    SendRequest,
    SetBackendService,
    SetBody,
    SetHeader,
    SetMethod,
    SetQueryParameter,
    SetStatus,
    SetVariable,
    TracePolicy,
    ValidateAzureAdToken,
    ValidateJwt,
    Wait,
    XmlToJson,
)


@lru_cache(maxsize=1)
def default_registry() -> HandlerRegistry:
    """The frozen registry of the built-in handlers."""
    return HandlerRegistry(BUILTIN_HANDLERS).freeze()
