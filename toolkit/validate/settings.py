"""Scenario parameters from validations/<scenario>.yaml: prompts, request shape, alpha, power, tolerances,
budgets. Loaded as strictly as toolkit.yaml: unknown keys and bad values are exit 3 with file:line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator

from toolkit.config.models import StrictModel
from toolkit.errors import ConfigError, InputError

SCENARIOS = ("load-balancing", "priority-failover", "circuit-breaker", "semantic-cache", "token-limit", "auth")
VALIDATIONS_DIR = "validations"

Prompt = Annotated[str, Field(min_length=1, max_length=2000)]
Alpha = Annotated[float, Field(gt=0.0, lt=0.5)]
Power = Annotated[float, Field(ge=0.5, lt=1.0)]


class RequestSettings(StrictModel):
    """What each chat completion carries besides its prompt."""

    max_tokens: int = Field(default=16, ge=1, le=4096)
    system: str | None = "You are a terse assistant."


class ScenarioSettings(StrictModel):
    """What every scenario file may set."""

    description: str | None = None
    backend_header: str = Field(default="x-ms-region", min_length=1)
    request: RequestSettings = RequestSettings()
    max_requests: int = Field(default=2000, ge=10, le=100_000)


class SharesSettings(ScenarioSettings):
    """Judging traffic shares by equivalence."""

    prompts: list[Prompt] = Field(min_length=1)
    alpha: Alpha = 0.05
    power: Power = 0.95
    tolerance: float = Field(default=0.10, gt=0.0, lt=0.5)
    looks: int = Field(default=4, ge=1, le=20)


class LoadBalancingSettings(SharesSettings):
    pass


class PriorityFailoverSettings(SharesSettings):
    burn_max_tokens: int = Field(default=4000, ge=1, le=128_000)
    burn_requests: int = Field(default=50, ge=1, le=10_000)
    recovery_probes: int = Field(default=20, ge=1, le=1000)


class CircuitBreakerSettings(ScenarioSettings):
    prompts: list[Prompt] = Field(min_length=1)
    in_flight: int = Field(default=0, ge=0, le=50)
    probes_while_open: int = Field(default=10, ge=1, le=1000)
    timing_tolerance_s: float = Field(default=1.0, ge=0.0, le=600)


class SemanticCacheSettings(ScenarioSettings):
    set1: list[Prompt] = Field(min_length=2)  # exact repeats: every prompt asked again must hit
    set2: list[Prompt] = Field(min_length=2)
    controls: list[Prompt] = Field(min_length=1)
    distance_margin: float = Field(default=0.01, ge=0.0, le=0.5)

    @field_validator("set1")
    @classmethod
    def _repeats_a_prompt(cls, prompts: list[str]) -> list[str]:
        if len(set(prompts)) == len(prompts):
            raise ValueError("must ask at least one prompt again: its repeats are what must hit the cache "
                             "(e.g. the same question five times)")
        return prompts


class TokenLimitSettings(ScenarioSettings):
    prompt: Prompt
    prompt_repeat: int = Field(default=1, ge=1, le=200)
    tolerance: float = Field(default=0.10, ge=0.0, lt=1.0)
    stream: bool = True


class AuthSettings(ScenarioSettings):
    prompt: Prompt
    jwt_cases: list[Annotated[str, Field(pattern=r"^(missing|expired|not-yet-valid|wrong-audience|wrong-issuer|"
                                                   r"bad-signature|alg-none|wrong-scheme|no-expiry)$")]] = Field(
        default_factory=lambda: ["missing", "expired", "not-yet-valid", "wrong-audience", "wrong-issuer",
                                 "bad-signature", "alg-none", "wrong-scheme", "no-expiry"])


MODELS: dict[str, type[ScenarioSettings]] = {
    "load-balancing": LoadBalancingSettings,
    "priority-failover": PriorityFailoverSettings,
    "circuit-breaker": CircuitBreakerSettings,
    "semantic-cache": SemanticCacheSettings,
    "token-limit": TokenLimitSettings,
    "auth": AuthSettings,
}


def load_settings(scenario: str, directory: str | Path) -> ScenarioSettings:
    """validations/<scenario>.yaml, validated with toolkit.yaml's reader (line tracking, bounded YAML)."""
    from pydantic import ValidationError

    from toolkit.config.validation_errors import config_error
    from toolkit.config.yaml_reader import Positions, read_yaml

    path = Path(directory) / f"{scenario}.yaml"
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: scenario file not found",
                         hint=f"every scenario reads its parameters from {VALIDATIONS_DIR}/<scenario>.yaml") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=file) from None
    positions = Positions()
    document = read_yaml(text, file, positions)
    if not isinstance(document, dict):
        raise ConfigError("the top level must be a mapping of settings", file=file, line=1)
    try:
        return MODELS[scenario].model_validate(document)
    except ValidationError as exc:
        raise config_error(exc, positions, file) from None
