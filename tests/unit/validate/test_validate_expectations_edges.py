"""Expectations read from hand-made artifact trees: every attribute's default, the llm-* policies, single backends,
breaker rules, named values and the errors that name the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from toolkit.artifacts.layout import ArtifactPath
from toolkit.artifacts.model import ArtifactSet
from toolkit.config import load_config
from toolkit.errors import ArtifactError
from toolkit.validate.expectations import Breaker, Member, group_shares, load_expectations

REPO = Path(__file__).resolve().parents[3]
API = "azure-openai"  # the config's first API: the one validated by default


@pytest.fixture(scope="module")
def config() -> Any:
    return load_config(REPO / "toolkit.yaml", "local", environ={})


def tree(api: Any = None, policy: str | None = None, backends: dict[str, Any] | None = None,
         named: dict[str, Any] | None = None) -> ArtifactSet:
    """An artifact set with the API's information (``api``: its properties, or the whole document when a list),
    its policy, backends (name -> properties) and named values (name -> the whole document)."""
    artifacts = ArtifactSet()
    artifacts.put(ArtifactPath.api(API), json.dumps(api if isinstance(api, list) else {"properties": api or {}}))
    if policy is not None:
        artifacts.put(ArtifactPath.api_policy(API), f"<policies><inbound><base />{policy}</inbound></policies>")
    for name, properties in (backends or {}).items():
        artifacts.put(ArtifactPath.backend(name), json.dumps({"properties": properties}))
    for name, document in (named or {}).items():
        artifacts.put(ArtifactPath.named_value(name), json.dumps(document))
    return artifacts


def expect(config: Any, artifacts: ArtifactSet, source: str = "tree") -> Any:
    return load_expectations(config, artifacts, source=source)


def test_an_api_with_nothing_set_gets_apims_defaults(config: Any) -> None:
    for artifacts in (tree(), tree(api=[]), tree(policy="")):
        found = expect(config, artifacts, source="mine")
        assert (found.source, found.api, found.api_path) == ("mine", API, "")
        assert found.key_header == "Ocp-Apim-Subscription-Key" and found.subscription_required is True
        assert (found.members, found.breakers, found.pool) == ((), {}, None)
        assert (found.retry_count, found.retry_statuses) == (0, ())
        assert (found.cache, found.tokens, found.jwt) == (None, None, None)
    assert expect(config, tree({"subscriptionRequired": False})).subscription_required is False


def test_the_chat_path_joins_the_api_path_without_doubled_slashes(config: Any) -> None:
    suffix = "/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21"
    assert expect(config, tree({"path": "/ai/"})).chat_path() == "/ai" + suffix
    assert expect(config, tree({"path": "XaiX"})).chat_path() == "/XaiX" + suffix  # only slashes are trimmed
    assert expect(config, tree()).chat_path() == suffix


def test_a_single_backend_is_the_only_member(config: Any) -> None:
    artifacts = tree(policy='<set-backend-service backend-id="openai-westus" />',
                     backends={"openai-westus": {"url": "https://w.example"}})
    found = expect(config, artifacts)
    assert found.members == (Member("openai-westus", 1, None, "West US"),) and found.pool is None
    assert found.breakers == {} and found.group(1) == list(found.members) and found.group(2) == []


def test_pool_members_without_priority_or_weight_and_ids_with_a_trailing_slash(config: Any) -> None:
    services = [{"id": "/backends/openai-eastus/"}, {"id": "/subscriptions/s/backends/otherX", "priority": 3,
                                                      "weight": 7}]
    artifacts = tree(policy='<set-backend-service backend-id="pool" />',
                     backends={"pool": {"type": "Pool", "pool": {"services": services}},
                               "openai-eastus": {}, "otherX": {}})
    found = expect(config, artifacts)
    assert found.members == (Member("openai-eastus", 1, None, "East US"), Member("otherX", 3, 7, None))
    assert found.pool == "pool" and found.priorities == [1, 3] and found.group(3) == [found.members[1]]


def _breaker(config: Any, rule: dict[str, Any]) -> Breaker:
    artifacts = tree(policy='<set-backend-service backend-id="b" />',
                     backends={"b": {"circuitBreaker": {"rules": [rule, {"name": "ignored"}]}}})
    return expect(config, artifacts).breakers["b"]


def test_a_breaker_rule_by_percentage_with_apims_default_durations(config: Any) -> None:
    rule = _breaker(config, {"failureCondition": {"percentage": 50, "statusCodeRanges": [
        {"min": 500, "max": 599}, {"min": 429, "max": 429}]}})
    assert rule == Breaker(count=None, percentage=50, interval_s=60, status_ranges=((500, 599), (429, 429)), trip_s=60,
                           accept_retry_after=False)
    assert rule.failing_status == 500 and rule.counts(429) and rule.counts(599) and not rule.counts(428)
    assert rule.describe() == "50% failures within 60 s trip it for 60 s"


def test_a_breaker_rule_by_count_that_accepts_retry_after(config: Any) -> None:
    rule = _breaker(config, {"failureCondition": {"count": 3, "interval": "PT5M"}, "tripDuration": "PT30S",
                             "acceptRetryAfter": True})
    assert (rule.count, rule.percentage, rule.interval_s, rule.trip_s, rule.accept_retry_after) == (3, None, 300, 30,
                                                                                                   True)
    assert rule.status_ranges == () and rule.failing_status == 500  # no ranges: a server error trips it
    assert rule.describe() == "3 failures within 300 s trip it for 30 s"


def test_a_backend_without_rules_has_no_breaker(config: Any) -> None:
    for properties in ({"circuitBreaker": {"rules": []}}, {"circuitBreaker": None}, {}):
        artifacts = tree(policy='<set-backend-service backend-id="b" />', backends={"b": properties})
        assert expect(config, artifacts).breakers == {}


def test_retry_count_and_the_statuses_of_its_condition(config: Any) -> None:
    condition = "@(context.Response.StatusCode == 429 || context.Response.StatusCode==503)"
    found = expect(config, tree(policy=f'<retry count="2" condition="{condition}"><forward-request /></retry>'))
    assert (found.retry_count, found.retry_statuses) == (2, (429, 503))
    bare = expect(config, tree(policy="<retry><forward-request /></retry>"))
    assert (bare.retry_count, bare.retry_statuses) == (0, ())


LLM_POLICY = """
<llm-semantic-cache-lookup score-threshold="{{threshold}}" embeddings-backend-id="emb">
  <vary-by>@(context.Subscription.Id)</vary-by><vary-by> @(context.User.Id) </vary-by>
</llm-semantic-cache-lookup>
<llm-semantic-cache-store duration="90" />
<llm-token-limit tokens-per-minute="{{tpm}}" token-quota=" 5000 " counter-key="@(context.Request.IpAddress)"
    remaining-tokens-header-name="x-left" tokens-consumed-header-name="x-used" retry-after-header-name="x-wait" />
"""


def test_the_llm_policies_read_as_their_azure_openai_twins(config: Any) -> None:
    named = {"threshold": {"properties": {"value": " 0.2 "}}, "tpm": {"properties": {"value": "1000"}}}
    found = expect(config, tree(policy=LLM_POLICY, named=named))
    assert (found.cache.score_threshold, found.cache.embeddings_backend) == (0.2, "emb")
    assert found.cache.vary_by == ("@(context.Subscription.Id)", "@(context.User.Id)") and found.cache.duration_s == 90
    tokens = found.tokens
    assert (tokens.tokens_per_minute, tokens.token_quota, tokens.counter_key) == (1000, 5000,
                                                                                 "@(context.Request.IpAddress)")
    assert (tokens.remaining_header, tokens.consumed_header, tokens.retry_after_header) == ("x-left", "x-used", "x-wait")


def test_cache_and_token_limit_attributes_left_out(config: Any) -> None:
    policy = ("<azure-openai-semantic-cache-lookup /><azure-openai-semantic-cache-store />"
              '<azure-openai-token-limit tokens-per-minute="10" />')
    found = expect(config, tree(policy=policy))
    assert found.cache.score_threshold == 0 and found.cache.embeddings_backend is None
    assert found.cache.vary_by == () and found.cache.duration_s is None
    tokens = found.tokens
    assert (tokens.tokens_per_minute, tokens.token_quota, tokens.counter_key) == (10, None, "")
    assert (tokens.remaining_header, tokens.consumed_header, tokens.retry_after_header) == (None, None, "Retry-After")
    # A lookup without a store: entries are never written, so no duration.
    assert expect(config, tree(policy="<llm-semantic-cache-lookup />")).cache.duration_s is None


JWT_POLICY = """
<validate-jwt header-name="X-Token" require-scheme="Bearer" failed-validation-httpcode="403"
    require-expiration-time=" False ">
  <audiences><audience><!-- the app's id -->{{aud}}</audience><audience>api://two</audience></audiences>
  <issuers><issuer>{{iss}}</issuer><issuer>{{unknown}}</issuer></issuers>
</validate-jwt>
"""


def test_validate_jwt_with_every_attribute_named_values_and_comments(config: Any) -> None:
    named = {"aud": {"properties": {"value": "api://one"}}, "iss": {"properties": {"value": "https://issuer/"}}}
    jwt = expect(config, tree(policy=JWT_POLICY, named=named)).jwt
    assert (jwt.header_name, jwt.scheme, jwt.failed_code, jwt.require_expiration_time) == ("X-Token", "Bearer", 403,
                                                                                          False)
    assert jwt.audiences == ("api://one", "api://two")
    assert jwt.issuers == ("https://issuer/", "{{unknown}}")  # a named value the tree lacks stays as written


def test_validate_jwt_defaults(config: Any) -> None:
    jwt = expect(config, tree(policy="<validate-jwt><audiences><audience /></audiences></validate-jwt>")).jwt
    assert (jwt.header_name, jwt.scheme, jwt.failed_code, jwt.require_expiration_time) == ("Authorization", None, 401,
                                                                                          True)
    assert jwt.audiences == ("",) and jwt.issuers == ()


def test_named_values_without_a_value_are_empty(config: Any) -> None:
    named = {"aud": {"properties": {}}, "iss": {}}
    policy = "<validate-jwt><audiences><audience>{{aud}}</audience></audiences><issuers><issuer>{{iss}}</issuer>" \
             "</issuers></validate-jwt>"
    jwt = expect(config, tree(policy=policy, named=named)).jwt
    assert (jwt.audiences, jwt.issuers) == (("",), ("",))


def test_broken_artifacts_name_their_file(config: Any) -> None:
    artifacts = tree()
    artifacts.put(ArtifactPath.api(API), "{not json")
    with pytest.raises(ArtifactError, match=r"^src: apis/azure-openai/apiInformation.json is not valid JSON \("):
        expect(config, artifacts, source="src")
    with pytest.raises(ArtifactError, match=r"^src: apis/azure-openai/policy.xml: "):
        expect(config, tree(policy="<retry>"), source="src")
    with pytest.raises(ArtifactError, match=r"^src: backends/missing/backendInformation.json is missing$"):
        expect(config, tree(policy='<set-backend-service backend-id="missing" />'), source="src")


def test_a_config_without_apis_has_nothing_to_validate(config: Any) -> None:
    bare = config.model_copy(update={"gateway": config.gateway.model_copy(update={"apis": []})})
    with pytest.raises(ArtifactError, match=r"^src: the config defines no API to validate$"):
        load_expectations(bare, tree(), source="src")


def test_weights_that_add_up_to_nothing_split_evenly_and_a_missing_weight_counts_as_none() -> None:
    assert group_shares([Member("a", 1, 0, None), Member("b", 1, 0, None)]) == {"a": 0.5, "b": 0.5}
    assert group_shares([Member("a", 1, 3, None), Member("b", 1, None, None)]) == {"a": 1.0, "b": 0.0}
    assert group_shares([Member("a", 1, None, None)] * 1) == {"a": 1.0}


@pytest.mark.parametrize("service", [{}, {"id": ""}, {"id": "/"}, "openai-eastus", None])
def test_a_pool_service_without_an_id_names_the_pool_file(config: Any, service: Any) -> None:
    artifacts = tree(policy='<set-backend-service backend-id="pool" />',
                     backends={"pool": {"type": "Pool", "pool": {"services": [{"id": "/backends/a"}, service]}}})
    with pytest.raises(ArtifactError, match=r"^src: backends/pool/backendInformation.json: pool service 2 has no id "
                                            r"naming its backend$"):
        expect(config, artifacts, source="src")


def test_backend_documents_without_properties_are_single_backends_without_breakers(config: Any) -> None:
    artifacts = tree(policy='<set-backend-service backend-id="bare" />')
    for document in ({}, {"properties": None}):
        artifacts.put(ArtifactPath.backend("bare"), json.dumps(document))
        found = expect(config, artifacts)
        assert found.members == (Member("bare", 1, None, None),) and found.breakers == {} and found.pool is None


def test_an_azure_openai_store_gives_the_duration_and_an_empty_vary_by_is_kept(config: Any) -> None:
    policy = ("<azure-openai-semantic-cache-lookup><vary-by /></azure-openai-semantic-cache-lookup>"
              '<azure-openai-semantic-cache-store duration="30" />')
    cache = expect(config, tree(policy=policy)).cache
    assert cache.duration_s == 30 and cache.vary_by == ("",)
