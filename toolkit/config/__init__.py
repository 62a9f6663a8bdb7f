"""toolkit.yaml: typed models (no I/O) and the one loader."""

from __future__ import annotations

from toolkit.config.loader import load_config
from toolkit.config.models import (
    ApiConfig,
    BackendConfig,
    CircuitBreakerRule,
    EnvironmentConfig,
    GatewayConfig,
    JwtConfig,
    LoadedConfig,
    NamedValueConfig,
    PoolConfig,
    PoolMember,
    RetryConfig,
    SemanticCacheConfig,
    TokenLimitConfig,
)

__all__ = [
    "ApiConfig",
    "BackendConfig",
    "CircuitBreakerRule",
    "EnvironmentConfig",
    "GatewayConfig",
    "JwtConfig",
    "LoadedConfig",
    "NamedValueConfig",
    "PoolConfig",
    "PoolMember",
    "RetryConfig",
    "SemanticCacheConfig",
    "TokenLimitConfig",
    "load_config",
]
