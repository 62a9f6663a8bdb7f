"""The real-world APIOps trees (tests/fixtures/realworld/trees) through the CLI, against the emulator's management API.

For each tree, exactly as a user would with a `toolkit.yaml` whose `local` environment is the emulator:
`toolkit apply --artifacts TREE --env local --yes`; `plan` shows zero changes; `pull` into a new
folder; `plan --artifacts PULLED` shows zero changes; operation policies are pulled, and `plan --prune`
lists one the artifacts lack. Kinds toolkit does not publish are reported, never dropped silently.

What a tree lacks to be published as it is (the specification its operation policies attach to, the
values of its secrets) is in tests/fixtures/realworld/tree-supplements/<tree>/, copied over the tree as
a user adds their own files; `{#TOKEN#}` values in `configuration.local.yaml` come from the environment,
as the APIOps pipelines' "Replace Tokens" step does. What the tree's owner has outside the tree is in
tests/fixtures/realworld/tree-setup/<tree>/: `toolkit.yaml` (appended to the test's config: the lint
findings they accept, with the reason) and `target-backends.json` (backends their Bicep creates, put on the
target through the SDK before the apply). A tree that cannot be applied must be listed in
docs/emulator.md ("Real-world APIOps trees toolkit does not apply"), with the message it fails with.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from toolkit.artifacts.layout import Kind
from toolkit.cli import root
from toolkit.config.models import EnvironmentConfig
from toolkit.emulator.management import ManagementPlane, TlsMaterial
from toolkit.publish.resources import ResourceRef
from toolkit.publish.target import connect_target
from toolkit.testing.emulator_servers import serve_app_in_thread

REPO = Path(__file__).resolve().parents[2]
TREES = REPO / "tests" / "fixtures" / "realworld" / "trees"
SUPPLEMENTS = REPO / "tests" / "fixtures" / "realworld" / "tree-supplements"
SETUP = REPO / "tests" / "fixtures" / "realworld" / "tree-setup"
DOCS = REPO / "docs" / "emulator.md"
NAMES = sorted(p.name for p in TREES.iterdir() if p.is_dir())
CONFIG = "environments:\n  local: {target: local}\n"
# Top-level folders of the kinds toolkit publishes (everything else in a tree is reported as not published).
PUBLISHED = {"apis", "backends", "named values", "policy fragments", "version sets"}


def listed_refusals() -> dict[str, str]:
    """tree → the message it fails with, from docs/emulator.md's table of trees toolkit does not apply."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Real-world APIOps trees toolkit does not apply", 1)[1].split("\n## ", 1)[0]
    return {m.group(1): m.group(2) for m in re.finditer(r"^\| `trees/([^`]+)` \| `([^`]+)` \|", section, re.M)}


def expected_unpublished(tree: Path) -> list[str]:
    """The "not published by toolkit" lines a tree must produce, counted here independently of toolkit."""
    counts: Counter[str] = Counter()
    for path in tree.rglob("*"):
        parts = path.relative_to(tree).parts
        if not path.is_file() or len(parts) == 1:
            continue
        if parts[0] == "apis" and len(parts) > 3 and parts[2] != "operations":
            counts[f"API {parts[2]}"] += 1
        elif parts[0] not in PUBLISHED:
            counts[parts[0]] += 1
    return [f"not published by toolkit: {kind} ({n} file{'s' if n != 1 else ''})" for kind, n in sorted(counts.items())]


def operation_policies(tree: Path) -> list[tuple[str, str]]:
    """(api, operation) of every operation policy in the tree."""
    return sorted((p.parts[-4], p.parts[-2]) for p in tree.glob("apis/*/operations/*/policy.xml"))


@pytest.fixture
def env(plane: ManagementPlane, tls: TlsMaterial) -> Iterator[dict[str, str]]:
    """Environment variables that point the CLI at a served emulator management plane (with its token)."""
    with serve_app_in_thread(plane.app, ssl=tls) as url:
        yield {"TOOLKIT_MANAGEMENT_URL": url, "TOOLKIT_CA_BUNDLE": str(tls.ca_bundle_path),
               "TOOLKIT_EMULATOR_TOKEN": plane.token}


def _prepare(name: str, tmp_path: Path, env: dict[str, str]) -> tuple[Path, Path, dict[str, str]]:
    """The tree with its supplements, a minimal toolkit.yaml, and the environment with its {#TOKEN#} values."""
    tree = tmp_path / "tree"
    shutil.copytree(TREES / name, tree)
    if (SUPPLEMENTS / name).is_dir():
        shutil.copytree(SUPPLEMENTS / name, tree, dirs_exist_ok=True)
    config = tmp_path / "toolkit.yaml"
    extra = SETUP / name / "toolkit.yaml"
    config.write_text(CONFIG + (extra.read_text(encoding="utf-8") if extra.is_file() else ""), encoding="utf-8")
    overrides = tree / "configuration.local.yaml"
    tokens = re.findall(r"\{#(\w+)#\}", overrides.read_text(encoding="utf-8")) if overrides.is_file() else []
    return tree, config, {**env, **{token: f"local-{token.lower()}-s3cret" for token in tokens}}


def create_outside_the_tree(name: str, env: dict[str, str]) -> list[str]:
    """Put the backends of SETUP/<tree>/target-backends.json on the target through the SDK, as the tree
    owner's Bicep does; their names."""
    path = SETUP / name / "target-backends.json"
    if not path.is_file():
        return []
    backends = {key: body for key, body in json.loads(path.read_text(encoding="utf-8")).items() if key != "_comment"}
    with connect_target(EnvironmentConfig(target="local"), environ=env) as target:
        for backend, body in backends.items():
            target.client.put(ResourceRef(Kind.BACKEND, backend), body)
    return sorted(backends)


def _run(env: dict[str, str], config: Path, *args: str) -> Result:
    return CliRunner(env=env).invoke(root, [*args, "--env", "local", "--config", str(config)])


@pytest.mark.parametrize("name", NAMES)
def test_tree_applies_plans_clean_pulls_and_plans_clean_again(
        name: str, env: dict[str, str], plane: ManagementPlane, tmp_path: Path) -> None:
    tree, config, env = _prepare(name, tmp_path, env)
    refused = listed_refusals()
    existing = create_outside_the_tree(name, env)
    before = plane.store.all()
    applied = _run(env, config, "apply", "--artifacts", str(tree), "--yes")
    if name in refused:
        assert applied.exit_code in (1, 4), f"{name} applies now: remove it from docs/emulator.md\n{applied.output}"
        assert refused[name] in applied.output, applied.output
        assert plane.store.all() == before, "a refused tree must leave the target as it was"
        return
    for backend in existing:
        assert f"backend '{backend}' is not in the tree but exists on" in applied.output, applied.output
    if (SETUP / name / "toolkit.yaml").is_file():  # the owner's accepted findings are reported, and all still apply
        assert " suppressed (" in applied.output and "unused suppression" not in applied.output, applied.output
    _round_trip(name, tree, config, env, applied, tmp_path)


def _round_trip(name: str, tree: Path, config: Path, env: dict[str, str], applied: Result, tmp_path: Path) -> None:
    """Applied cleanly; plan, pull and plan from the pulled tree show nothing to do; --prune sees operation policies."""
    assert applied.exit_code == 0, applied.output
    for line in expected_unpublished(tree):
        assert line in applied.output, f"{name}: {line!r} missing from:\n{applied.output}"
    secrets = [value for value in env.values() if value.endswith("-s3cret")]
    assert not any(secret in applied.output for secret in secrets), "a secret value reached the output"

    again = _run(env, config, "plan", "--artifacts", str(tree), "--detailed-exitcode")
    assert again.exit_code == 0 and "No changes" in again.output, again.output

    pulled = tmp_path / "pulled"
    pull = _run(env, config, "pull", "--out", str(pulled))
    assert pull.exit_code == 0, pull.output
    for api, operation in operation_policies(tree):
        relpath = f"apis/{api}/operations/{operation}/policy.xml"
        assert relpath in pull.output and (pulled / relpath).is_file(), f"{name}: {relpath} not pulled"
    pulled_text = "".join(p.read_text(encoding="utf-8") for p in pulled.rglob("*") if p.is_file())
    assert not any(secret in pulled_text for secret in secrets), "pull wrote a secret value"

    round_trip = _run(env, config, "plan", "--artifacts", str(pulled), "--detailed-exitcode")
    assert round_trip.exit_code == 0 and "No changes" in round_trip.output, round_trip.output

    for api, operation in operation_policies(tree)[:1]:  # --prune sees operation policies the artifacts lack
        (pulled / "apis" / api / "operations" / operation / "policy.xml").unlink()
        pruned = _run(env, config, "plan", "--artifacts", str(pulled), "--prune", "--detailed-exitcode")
        assert pruned.exit_code == 1, pruned.output
        assert re.search(rf"delete\s+the policy of operation '{operation}' of API '{api}'", pruned.output), pruned.output


def test_the_sample_tree_round_trips_its_second_revision_and_its_version_set(
        env: dict[str, str], plane: ManagementPlane, tmp_path: Path) -> None:
    """apiops-sample-artifacts: `revisioned-api;rev=2` with its operation policy, and `versionSet1` (written
    by the APIOps extractor as versionSetInformation.json) with the two APIs that belong to it."""
    name = "apiops-sample-artifacts"
    tree, config, env = _prepare(name, tmp_path, env)
    applied = _run(env, config, "apply", "--artifacts", str(tree), "--yes")
    _round_trip(name, tree, config, env, applied, tmp_path)
    pulled = tmp_path / "pulled"
    assert (pulled / "apis/revisioned-api;rev=2/operations/get-revision-v2/policy.xml").is_file()
    assert '"apiRevision": "2"' in (pulled / "apis/revisioned-api;rev=2/apiInformation.json").read_text()
    assert '"versioningScheme": "Segment"' in (pulled / "version sets/versionSet1/versionSetInformation.json").read_text()
    v1 = json.loads((pulled / "apis/versioned-api-v1/apiInformation.json").read_text())["properties"]
    assert (v1["apiVersion"], v1["apiVersionSetId"].rsplit("/", 2)[1:]) == ("v1", ["apiVersionSets", "versionSet1"])


def test_the_genai_tree_without_the_backends_its_bicep_creates_is_refused_before_writing(
        env: dict[str, str], plane: ManagementPlane, tmp_path: Path) -> None:
    """Its pool lists deployment-1-0 and deployment-1-1, which only its Bicep creates: on a target without
    them the apply stops, naming both, and the target is left as it was."""
    tree, config, env = _prepare("apiops-apim-genai", tmp_path, env)
    applied = _run(env, config, "apply", "--artifacts", str(tree), "--yes")
    assert applied.exit_code == 1, applied.output
    for backend in ("deployment-1-0", "deployment-1-1"):
        assert f"backend '{backend}' is not on the target either: create it there first" in applied.output
    assert "nothing was written" in applied.output and plane.store.all() == []


def test_every_listed_tree_is_in_the_corpus() -> None:
    assert set(listed_refusals()) <= set(NAMES)
    assert len(NAMES) == 8 and listed_refusals() == {}  # all 8 go through the whole cycle
