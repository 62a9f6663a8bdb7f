"""What the gateway should do, read from the configuration being validated (never from the target).

The behaviour comes from the artifact set (toolkit.yaml rendered for the environment, or an APIOps tree
given with --artifacts): the pool's priorities and weights, each backend's breaker rule, the API's
policy attributes. The config adds what APIM does not store: each backend's region (how a response
names the backend that served it), the deployment and the api-version to call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from toolkit.artifacts.layout import ArtifactPath
from toolkit.artifacts.model import ArtifactSet
from toolkit.config.models import LoadedConfig, duration_seconds
from toolkit.errors import ArtifactError

_NAMED_VALUE = re.compile(r"\{\{([A-Za-z0-9._-]+)\}\}")


@dataclass(frozen=True)
class Member:
    """A pool member as deployed: priority (lower first), weight, and the region that identifies it."""

    backend: str
    priority: int
    weight: int | None
    region: str | None


@dataclass(frozen=True)
class Breaker:
    """A backend's circuit-breaker rule."""

    count: int | None
    percentage: int | None
    interval_s: float
    status_ranges: tuple[tuple[int, int], ...]
    trip_s: float
    accept_retry_after: bool

    def counts(self, status: int) -> bool:
        """Whether a response with ``status`` is a failure for this rule."""
        return any(low <= status <= high for low, high in self.status_ranges)

    @property
    def failing_status(self) -> int:
        """A status this rule counts as a failure (what validation makes a backend answer to trip it)."""
        return self.status_ranges[0][0] if self.status_ranges else 500

    def describe(self) -> str:
        threshold = f"{self.count} failures" if self.count else f"{self.percentage}% failures"
        return f"{threshold} within {self.interval_s:g} s trip it for {self.trip_s:g} s"


@dataclass(frozen=True)
class CacheRule:
    """azure-openai-semantic-cache-lookup / -store."""

    score_threshold: float
    embeddings_backend: str | None
    vary_by: tuple[str, ...]
    duration_s: float | None


@dataclass(frozen=True)
class TokenRule:
    """azure-openai-token-limit."""

    tokens_per_minute: int | None
    token_quota: int | None
    counter_key: str
    remaining_header: str | None
    consumed_header: str | None
    retry_after_header: str


@dataclass(frozen=True)
class JwtRule:
    """validate-jwt."""

    header_name: str
    scheme: str | None
    audiences: tuple[str, ...]
    issuers: tuple[str, ...]
    failed_code: int
    require_expiration_time: bool = True


@dataclass(frozen=True)
class Expectations:
    """Everything a scenario may expect, with where it came from (for messages)."""

    source: str
    api: str
    api_path: str
    key_header: str
    subscription_required: bool
    deployment: str
    api_version: str
    pool: str | None
    members: tuple[Member, ...] = ()
    breakers: dict[str, Breaker] = field(default_factory=dict)
    retry_count: int = 0
    retry_statuses: tuple[int, ...] = ()
    cache: CacheRule | None = None
    tokens: TokenRule | None = None
    jwt: JwtRule | None = None

    @property
    def priorities(self) -> list[int]:
        return sorted({m.priority for m in self.members})

    def group(self, priority: int) -> list[Member]:
        return [m for m in self.members if m.priority == priority]

    def chat_path(self) -> str:
        path = "/".join(filter(None, (self.api_path.strip("/"), "openai/deployments", self.deployment,
                                      "chat/completions")))
        return f"/{path}?api-version={self.api_version}"


def group_shares(members: list[Member]) -> dict[str, float]:
    """APIM's split inside one priority group: by weight, or evenly when no member has a weight."""
    weights = [m.weight for m in members]
    if all(w is None for w in weights):
        return {m.backend: 1 / len(members) for m in members}
    total = sum(w or 0 for w in weights)
    if total == 0:
        return {m.backend: 1 / len(members) for m in members}
    return {m.backend: (m.weight or 0) / total for m in members}


def expected_shares(members: tuple[Member, ...] | list[Member]) -> dict[str, float]:
    """Each member's share while all are healthy: the top group by weight, every other member 0."""
    if not members:
        return {}
    top = min(m.priority for m in members)
    shares = {m.backend: 0.0 for m in members}
    shares.update(group_shares([m for m in members if m.priority == top]))
    return shares


def load_expectations(config: LoadedConfig, artifacts: ArtifactSet, *, source: str, api: str | None = None) -> Expectations:
    """Expectations for ``api`` (default: the config's first API) from ``artifacts``."""
    api_name = api or (config.gateway.apis[0].name if config.gateway.apis else None)
    if api_name is None:
        raise ArtifactError(f"{source}: the config defines no API to validate")
    reader = _Reader(artifacts, source)
    info = reader.json(ArtifactPath.api(api_name)).get("properties", {})
    policy = reader.policy(api_name)
    regions = {b.name: b.region for b in config.gateway.backends}
    environment = config.environment
    key_names = info.get("subscriptionKeyParameterNames") or {}
    backend_id = _attr(policy, "set-backend-service", "backend-id")
    members, breakers, pool = _backends(reader, backend_id, regions)
    retry = policy.find(".//retry") if policy is not None else None
    condition = retry.get("condition") if retry is not None else None
    return Expectations(
        source=source, api=api_name, api_path=str(info.get("path", "")),
        key_header=str(key_names.get("header", "Ocp-Apim-Subscription-Key")),
        subscription_required=bool(info.get("subscriptionRequired", True)),
        deployment=environment.deployment, api_version=environment.openai_api_version,
        pool=pool, members=tuple(members), breakers=breakers,
        retry_count=int(retry.get("count", "0")) if retry is not None else 0,
        retry_statuses=tuple(int(s) for s in re.findall(r"StatusCode\s*==\s*(\d{3})", condition)) if condition else (),
        cache=_cache(policy, reader), tokens=_tokens(policy, reader), jwt=_jwt(policy, reader),
    )


class _Reader:
    """Artifacts with named values substituted, and errors that name the file."""

    def __init__(self, artifacts: ArtifactSet, source: str) -> None:
        self.artifacts, self.source = artifacts, source
        self.named = {}
        for path, text in artifacts.artifacts():
            if path.kind.name == "NAMED_VALUE":
                self.named[path.name] = str(artifacts.json(path).get("properties", {}).get("value", ""))

    def json(self, path: ArtifactPath) -> dict[str, Any]:
        try:
            document = self.artifacts.json(path)
        except KeyError:
            raise ArtifactError(f"{self.source}: {path.relpath} is missing") from None
        except ValueError as exc:
            raise ArtifactError(f"{self.source}: {path.relpath} is not valid JSON ({exc})") from None
        return document if isinstance(document, dict) else {}

    def policy(self, api: str) -> Any:
        from lxml import etree

        text = self.artifacts.get(ArtifactPath.api_policy(api))
        if text is None:
            return None
        try:
            return etree.fromstring(text.encode(), parser=etree.XMLParser(remove_comments=True))
        except etree.XMLSyntaxError as exc:
            raise ArtifactError(f"{self.source}: {ArtifactPath.api_policy(api).relpath}: {exc}") from None

    def value(self, text: str | None) -> str | None:
        if text is None:
            return None
        return _NAMED_VALUE.sub(lambda m: self.named.get(m.group(1), m.group(0)), text.strip())


def _attr(policy: Any, element: str, name: str) -> str | None:
    if policy is None:
        return None
    found = policy.find(f".//{element}")
    return found.get(name) if found is not None else None


def _find_any(policy: Any, *names: str) -> Any:
    for name in names:
        found = policy.find(f".//{name}") if policy is not None else None
        if found is not None:
            return found
    return None


def _backends(reader: _Reader, backend_id: str | None, regions: dict[str, str | None]
              ) -> tuple[list[Member], dict[str, Breaker], str | None]:
    if not backend_id:
        return [], {}, None
    path = ArtifactPath.backend(backend_id)
    properties = reader.json(path).get("properties") or {}
    if properties.get("type") == "Pool":
        services = (properties.get("pool") or {}).get("services") or []
        names = [_service_name(service, index, path, reader.source) for index, service in enumerate(services)]
        members = [Member(n, int(s.get("priority") or 1), s.get("weight"), regions.get(n))
                   for n, s in zip(names, services)]
        pool = backend_id
    else:
        members, pool = [Member(backend_id, 1, None, regions.get(backend_id))], None
    breakers = {}
    for member in members:
        rule = _breaker(reader.json(ArtifactPath.backend(member.backend)).get("properties") or {})
        if rule is not None:
            breakers[member.backend] = rule
    return members, breakers, pool


def _service_name(service: Any, index: int, path: ArtifactPath, source: str) -> str:
    """A pool member's backend: the last segment of its id (``/backends/<name>`` or a full resource id)."""
    identifier = service.get("id") if isinstance(service, dict) else None
    segments = [part for part in str(identifier or "").split("/") if part]
    if not segments:
        raise ArtifactError(f"{source}: {path.relpath}: pool service {index + 1} has no id naming its backend")
    return segments[-1]


def _breaker(properties: dict[str, Any]) -> Breaker | None:
    rules = (properties.get("circuitBreaker") or {}).get("rules") or []
    if not rules:
        return None
    rule = rules[0]
    condition = rule.get("failureCondition") or {}
    return Breaker(
        count=condition.get("count"), percentage=condition.get("percentage"),
        interval_s=duration_seconds(condition.get("interval", "PT1M")),
        status_ranges=tuple((int(r["min"]), int(r["max"])) for r in condition.get("statusCodeRanges") or []),
        trip_s=duration_seconds(rule.get("tripDuration", "PT1M")),
        accept_retry_after=bool(rule.get("acceptRetryAfter")),
    )


def _cache(policy: Any, reader: _Reader) -> CacheRule | None:
    lookup = _find_any(policy, "azure-openai-semantic-cache-lookup", "llm-semantic-cache-lookup")
    if lookup is None:
        return None
    store = _find_any(policy, "azure-openai-semantic-cache-store", "llm-semantic-cache-store")
    return CacheRule(
        score_threshold=float(reader.value(lookup.get("score-threshold")) or 0),
        embeddings_backend=lookup.get("embeddings-backend-id"),
        vary_by=tuple((v.text or "").strip() for v in lookup.findall("vary-by")),
        duration_s=float(store.get("duration")) if store is not None and store.get("duration") else None,
    )


def _tokens(policy: Any, reader: _Reader) -> TokenRule | None:
    limit = _find_any(policy, "azure-openai-token-limit", "llm-token-limit")
    if limit is None:
        return None

    def number(name: str) -> int | None:
        value = reader.value(limit.get(name))
        return int(value) if value else None

    return TokenRule(
        tokens_per_minute=number("tokens-per-minute"), token_quota=number("token-quota"),
        counter_key=limit.get("counter-key", ""),
        remaining_header=limit.get("remaining-tokens-header-name"),
        consumed_header=limit.get("tokens-consumed-header-name"),
        retry_after_header=limit.get("retry-after-header-name") or "Retry-After",
    )


def _jwt(policy: Any, reader: _Reader) -> JwtRule | None:
    element = _find_any(policy, "validate-jwt")
    if element is None:
        return None
    return JwtRule(
        header_name=element.get("header-name", "Authorization"),
        scheme=element.get("require-scheme"),
        audiences=tuple(reader.value(a.text) or "" for a in element.findall("audiences/audience")),
        issuers=tuple(reader.value(i.text) or "" for i in element.findall("issuers/issuer")),
        failed_code=int(element.get("failed-validation-httpcode", "401")),
        require_expiration_time=element.get("require-expiration-time", "true").strip().lower() != "false",
    )
