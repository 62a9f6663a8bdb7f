"""pull: the live state as an APIOps tree that lints clean and plans to no changes; secrets stay out."""

from __future__ import annotations

from pathlib import Path

from publish_helpers import SECRET_V1, SMALL_CONFIG, desired_of, make_config
from toolkit.artifacts.io import read_tree, write_tree
from toolkit.emulator.management import ManagementPlane
from toolkit.lint.runner import lint_tree
from toolkit.publish import ApimTarget, apply_plan, load_desired, plan_against, pull_artifacts


def _publish(target: ApimTarget, desired) -> None:  # type: ignore[no-untyped-def]
    apply_plan(target.client, plan_against(target, desired, env="local"), desired.resources)


def test_pull_of_the_sample_matches_the_rendered_tree(target: ApimTarget, sample, tmp_path: Path) -> None:
    config, desired = sample
    _publish(target, desired)
    pulled = pull_artifacts(target.client)
    assert set(pulled.paths()) == set(read_tree(Path(config.path).parent / "apimartifacts").paths())
    assert not lint_tree(pulled).errors
    write_tree(tmp_path / "pulled", pulled)
    from_tree = load_desired(config, templates_dir="unused", artifacts_dir=tmp_path / "pulled")
    assert not plan_against(target, from_tree, env="local").has_changes


def test_pulled_secret_has_no_value_and_still_plans_clean(target: ApimTarget, plane: ManagementPlane,
                                                        tmp_path: Path) -> None:
    config = make_config(tmp_path / "project", SMALL_CONFIG)
    _publish(target, desired_of(config))
    plane.counters.reset()
    pulled = pull_artifacts(target.client)
    assert "POST" not in plane.counters.snapshot()["by_method"]  # listValue is never called
    text = "".join(pulled.get(p) or "" for p in pulled.paths())
    assert SECRET_V1 not in text
    assert pulled.json("named values/api-secret/namedValueInformation.json") == {
        "properties": {"displayName": "api-secret", "secret": True}}
    write_tree(tmp_path / "pulled", pulled)
    from_tree = load_desired(config, templates_dir="unused", artifacts_dir=tmp_path / "pulled")
    assert not plan_against(target, from_tree, env="local", prune=True).has_changes


def test_pull_of_an_empty_service_is_empty(target: ApimTarget) -> None:
    assert len(pull_artifacts(target.client)) == 0
