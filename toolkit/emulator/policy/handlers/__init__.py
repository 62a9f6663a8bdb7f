"""The built-in policy handlers, listed explicitly (nothing registers by import side effect)."""

from __future__ import annotations

from functools import lru_cache

from toolkit.emulator.policy.handlers.authentication_managed_identity import AuthenticationManagedIdentity
from toolkit.emulator.policy.handlers.azure_openai_semantic_cache_lookup import AzureOpenAiSemanticCacheLookup
from toolkit.emulator.policy.handlers.azure_openai_semantic_cache_store import AzureOpenAiSemanticCacheStore
from toolkit.emulator.policy.handlers.azure_openai_token_limit import AzureOpenAiTokenLimit
from toolkit.emulator.policy.handlers.base import Base
from toolkit.emulator.policy.handlers.choose import Choose
from toolkit.emulator.policy.handlers.forward_request import ForwardRequest
from toolkit.emulator.policy.handlers.include_fragment import IncludeFragment
from toolkit.emulator.policy.handlers.llm_semantic_cache_lookup import LlmSemanticCacheLookup
from toolkit.emulator.policy.handlers.llm_semantic_cache_store import LlmSemanticCacheStore
from toolkit.emulator.policy.handlers.llm_token_limit import LlmTokenLimit
from toolkit.emulator.policy.handlers.retry import Retry
from toolkit.emulator.policy.handlers.return_response import ReturnResponse
from toolkit.emulator.policy.handlers.set_backend_service import SetBackendService
from toolkit.emulator.policy.handlers.set_body import SetBody
from toolkit.emulator.policy.handlers.set_header import SetHeader
from toolkit.emulator.policy.handlers.set_status import SetStatus
from toolkit.emulator.policy.handlers.set_variable import SetVariable
from toolkit.emulator.policy.handlers.validate_azure_ad_token import ValidateAzureAdToken
from toolkit.emulator.policy.handlers.validate_jwt import ValidateJwt
from toolkit.emulator.policy.registry import HandlerRegistry

BUILTIN_HANDLERS = (
    AuthenticationManagedIdentity,
    AzureOpenAiSemanticCacheLookup,
    AzureOpenAiSemanticCacheStore,
    AzureOpenAiTokenLimit,
    Base,
    Choose,
    ForwardRequest,
    IncludeFragment,
    LlmSemanticCacheLookup,
    LlmSemanticCacheStore,
    LlmTokenLimit,
    Retry,
    ReturnResponse,
    SetBackendService,
    SetBody,
    SetHeader,
    SetStatus,
    SetVariable,
    ValidateAzureAdToken,
    ValidateJwt,
)


@lru_cache(maxsize=1)
def default_registry() -> HandlerRegistry:
    """The frozen registry of the built-in handlers."""
    return HandlerRegistry(BUILTIN_HANDLERS).freeze()
