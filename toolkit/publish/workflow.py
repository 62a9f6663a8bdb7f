"""What the plan, apply and pull verbs share: the desired state (rendered or read from a tree, linted),
a plan against a target, and the checks that a saved plan still fits."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.artifacts.apiops_config import apply_configuration, configuration_file, load_configuration
from toolkit.artifacts.layout import Kind
from toolkit.config.models import LoadedConfig
from toolkit.errors import InputError, StalePlanError
from toolkit.lint.runner import LintResult
from toolkit.publish.diff import compute_plan, desired_digest
from toolkit.publish.normalize import DEFAULTS
from toolkit.publish.plan import MISSING, Op, Plan
from toolkit.publish.remote import read_remote
from toolkit.publish.resources import Body, ResourceRef, is_secret, resources_from_artifacts
from toolkit.publish.target import ApimTarget
from toolkit.publish.version_sets import check_version_set_references


@dataclass
class Desired:
    """The resources to publish, where they came from, and the lint result of their tree."""

    resources: dict[ResourceRef, Body]
    features: tuple[str, ...]
    source: str
    lint: LintResult
    unpublished: dict[str, int] = field(default_factory=dict)  # kind -> files of a foreign tree not published

    @property
    def complete(self) -> bool:
        """Whether this is the whole gateway (``all``): only then can the target be compared for extras."""
        return "all" in self.features


def load_desired(config: LoadedConfig, features: Iterable[str] = (), *, templates_dir: str | Path,
                 artifacts_dir: str | Path | None = None) -> Desired:
    """Render the config (or read ``artifacts_dir``), lint the whole tree, keep what ``features`` own."""
    from toolkit.artifacts.io import read_tree
    from toolkit.config.lint_settings import suppressions
    from toolkit.lint.runner import lint_tree
    from toolkit.render import owned_paths, render_artifacts

    accepted = suppressions(config.gateway.lint, config.path)  # lint: ignore: of toolkit.yaml
    chosen = tuple(features) or ("all",)
    secrets = {nv.name: nv.value for nv in _named_values(config) if nv.secret and nv.value}
    if artifacts_dir is not None:
        if "all" not in chosen:
            raise InputError("FEATURE selects rendered files; with --artifacts the whole tree is published",
                             hint="drop the FEATURE arguments (or render and publish without --artifacts)")
        from toolkit.artifacts.foreign import unpublished_files

        tree = read_tree(artifacts_dir)
        unpublished = unpublished_files(artifacts_dir)
        source = str(artifacts_dir)
        overrides = Path(artifacts_dir) / configuration_file(config.env_name)
        if overrides.exists():  # (a folder there is refused) what the APIOps publisher does with CONFIGURATION_YAML_PATH for this environment
            tree = apply_configuration(tree, load_configuration(overrides, os.environ))
            source += f" with {overrides.name}"
            _count_down(unpublished, "APIOps configuration overrides")
        return Desired(resources_from_artifacts(tree, secrets), chosen, source,
                       lint_tree(tree, root_label=str(artifacts_dir), suppressions=accepted), unpublished)
    tree = render_artifacts(config.gateway, templates_dir, config_file=config.path)
    try:
        owned = owned_paths(config.gateway, chosen, tree)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    resources = resources_from_artifacts(tree.subset(owned), secrets)
    return Desired(resources, chosen, f"{config.path} (environment {config.env_name!r})",
                   lint_tree(tree, suppressions=accepted))


def _count_down(counts: dict[str, int], kind: str) -> None:
    counts[kind] -= 1
    if not counts[kind]:
        del counts[kind]


def _named_values(config: LoadedConfig) -> list:
    """The config's named values and the api-key ones its backend ``auth`` implies (a bad auth is refused at render)."""
    from toolkit.render.auth import AuthConfigError, all_named_values

    try:
        return all_named_values(config.gateway)
    except AuthConfigError:
        return list(config.gateway.named_values)


def plan_against(target: ApimTarget, desired: Desired, *, env: str, prune: bool = False) -> Plan:
    """Read the target and compare it with ``desired``; ``prune`` plans deletes of resources it lacks."""
    if prune and not desired.complete:
        raise InputError("--prune compares the whole gateway with the target: use it without FEATURE (or with all)")
    compare = {ref for ref, body in desired.resources.items()
               if ref.kind is Kind.NAMED_VALUE and is_secret(body) and "value" in body["properties"]}
    live = read_remote(target.client, desired.resources, discover=desired.complete, fetch_extra=prune,
                       compare_secrets=compare)
    check_version_set_references(desired.resources, live, target.client, prune=prune)
    plan = compute_plan(desired.resources, live, prune=prune, env=env, target=target.label, features=desired.features)
    _refuse_revision_changes(plan)
    return plan


DEFAULT_REVISION = DEFAULTS[Kind.API]["apiRevision"]


def _refuse_revision_changes(plan: Plan) -> None:
    """A PUT updates an API's current revision; moving to another revision number means creating that revision
    and releasing it (what the APIOps publisher does), which toolkit does not do: say so instead of trying."""
    for change in plan.actions:
        revision = next((f for f in change.fields if f.path == "properties.apiRevision"), None)
        if change.ref.kind is Kind.API and change.op is Op.UPDATE and revision is not None:
            before, after = (DEFAULT_REVISION if v is MISSING else v for v in (revision.before, revision.after))
            raise InputError(f"API '{change.ref.name}' is at revision {before} on the target and the "
                             f"artifacts say {after}: toolkit publishes to the current revision and does "
                             "not create or release revisions",
                             hint="make that revision current in APIM (or with the APIOps publisher) first, "
                                  "or set revision to the current one")


def check_saved_plan(plan: Plan, desired: Desired, target: ApimTarget) -> None:
    """StalePlanError unless ``plan`` was made for this target and these artifacts."""
    if plan.target and plan.target != target.label:
        raise StalePlanError(f"the plan was made for {plan.target}, not {target.label}",
                             hint="run `toolkit plan` against this target")
    if plan.desired_digest != desired_digest(desired.resources):
        raise StalePlanError("the artifacts changed since the plan was made; nothing was written",
                             hint="run `toolkit plan` again and review the changes")
