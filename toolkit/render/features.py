"""Which files each feature owns: rendering a feature rewrites only those."""

from __future__ import annotations

import re

from toolkit.artifacts.layout import ArtifactPath
from toolkit.artifacts.model import ArtifactSet
from toolkit.config.models import GatewayConfig

NAMED_VALUE_REFERENCE = re.compile(r"\{\{([A-Za-z0-9._-]+)\}\}")
FRAGMENT_REFERENCE = re.compile(r'<include-fragment\s+fragment-id="([A-Za-z0-9._-]+)"')

FEATURES = ("backend-pool", "circuit-breaker", "retry", "semantic-cache", "token-limit", "jwt", "all")


def _api_files(name: str) -> set[str]:
    return {ArtifactPath.api(name).relpath, ArtifactPath.api_policy(name).relpath}


def owned_paths(gateway: GatewayConfig, features: set[str] | list[str] | tuple[str, ...], artifacts: ArtifactSet) -> set[str]:
    """The rendered paths that ``features`` own. A policy document is composed of all features, so a
    feature that touches an API's policy owns that API's policy.xml whole."""
    wanted = set(features) or {"all"}
    unknown = wanted - set(FEATURES)
    if unknown:
        raise ValueError(f"unknown feature(s): {', '.join(sorted(unknown))} (choose from {', '.join(FEATURES)})")
    rendered = set(artifacts.paths())
    if "all" in wanted:
        return rendered
    owned: set[str] = set()
    pools = {p.name: p for p in gateway.pools}
    for api in gateway.apis:
        pool = pools.get(api.backend)
        if "backend-pool" in wanted and pool:
            owned |= _api_files(api.name)
            owned.add(ArtifactPath.backend(pool.name).relpath)
            owned |= {ArtifactPath.backend(m.backend).relpath for m in pool.members}
        for feature, present in (
            ("retry", api.retry),
            ("token-limit", api.token_limit),
            ("jwt", api.jwt),
            ("semantic-cache", api.semantic_cache),
        ):
            if feature in wanted and present:
                owned |= _api_files(api.name)
        if "semantic-cache" in wanted and api.semantic_cache:
            owned.add(ArtifactPath.backend(api.semantic_cache.embeddings_backend).relpath)
    if "circuit-breaker" in wanted:
        owned |= {ArtifactPath.backend(b.name).relpath for b in gateway.backends if b.circuit_breaker}
    # Fragments belong to the policies that include them; named values to the policies (and fragments)
    # that reference them as {{name}}.
    for path in list(owned):
        for name in FRAGMENT_REFERENCE.findall(artifacts.get(path) or ""):
            owned |= {ArtifactPath.fragment(name).relpath, ArtifactPath.fragment_policy(name).relpath}
    # An API's operations (its specification file and operation policies) go with its apiInformation.json.
    apis = {ArtifactPath.api(a.name).relpath: a.name for a in gateway.apis}
    owned |= {p for p in rendered for info, name in apis.items()
              if info in owned and p.startswith((f"apis/{name}/specification.", f"apis/{name}/operations/"))}
    for path in list(owned):
        for name in NAMED_VALUE_REFERENCE.findall(artifacts.get(path) or ""):
            owned.add(ArtifactPath.named_value(name).relpath)
    return owned & rendered
