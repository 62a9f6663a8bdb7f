"""Expectations come from the artifact set and the config, never from the target."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolkit.artifacts.io import read_tree
from toolkit.config import load_config
from toolkit.errors import ArtifactError
from toolkit.validate.expectations import Member, expected_shares, group_shares, load_expectations

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def expect():
    config = load_config(REPO / "toolkit.yaml", "local", environ={})
    return load_expectations(config, read_tree(REPO / "apimartifacts"), source="apimartifacts")


def test_pool_members_with_priorities_weights_and_regions(expect) -> None:
    assert expect.pool == "openai-backend-pool"
    assert [(m.backend, m.priority, m.weight, m.region) for m in expect.members] == [
        ("openai-eastus", 1, 50, "East US"), ("openai-northcentralus", 1, 50, "North Central US"),
        ("openai-westus", 2, 100, "West US")]
    assert expect.priorities == [1, 2]


def test_breakers_cache_tokens_and_jwt_from_the_policy(expect) -> None:
    rule = expect.breakers["openai-eastus"]
    assert (rule.count, rule.interval_s, rule.trip_s, rule.status_ranges) == (3, 300, 60, ((429, 429),))
    assert rule.counts(429) and not rule.counts(500)
    assert expect.cache.score_threshold == 0.05 and expect.cache.vary_by == ("@(context.Subscription.Id)",)
    assert expect.tokens.tokens_per_minute == 20000 and expect.tokens.remaining_header == "x-apim-remaining-tokens"
    assert expect.jwt.audiences == ("api://toolkit-gateway",)  # the named value, substituted
    assert expect.jwt.failed_code == 401 and expect.retry_count == 2 and expect.retry_statuses == (429, 503)


def test_chat_path_uses_the_api_path_deployment_and_version(expect) -> None:
    assert expect.chat_path() == "/openai/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21"
    assert expect.key_header == "api-key" and expect.subscription_required


def test_a_drifted_tree_changes_the_expectations(tmp_path: Path) -> None:
    tree = read_tree(REPO / "apimartifacts")
    pool = json.loads(tree.get("backends/openai-backend-pool/backendInformation.json"))
    pool["properties"]["pool"]["services"][0]["weight"] = 80
    tree.put("backends/openai-backend-pool/backendInformation.json", json.dumps(pool))
    config = load_config(REPO / "toolkit.yaml", "local", environ={})
    shares = expected_shares(load_expectations(config, tree, source="x").members)
    assert shares["openai-eastus"] == pytest.approx(80 / 130)


def test_shares_follow_apim_weights_and_priorities() -> None:
    members = [Member("a", 1, 3, "A"), Member("b", 1, 1, "B"), Member("c", 2, 100, "C")]
    assert expected_shares(members) == {"a": 0.75, "b": 0.25, "c": 0.0}
    assert group_shares([Member("a", 1, None, None), Member("b", 1, None, None)]) == {"a": 0.5, "b": 0.5}


def test_a_missing_api_file_names_the_path(tmp_path: Path) -> None:
    config = load_config(REPO / "toolkit.yaml", "local", environ={})
    tree = read_tree(REPO / "apimartifacts").subset(set())
    with pytest.raises(ArtifactError) as info:
        load_expectations(config, tree, source="tree")
    assert "apis/azure-openai/apiInformation.json is missing" in str(info.value)
